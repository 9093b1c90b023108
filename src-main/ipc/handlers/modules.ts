/**
 * Which core areas this build wires to the app. The renderer reads it (app.info) to show a
 * plain "not in this build" note on a step instead of a button that can only fail. A handler
 * whose core cannot do something answers UNSUPPORTED; it never pretends to succeed.
 */
export const MODULES = {
  keys: true,
  verify: true,
  settings: true,
  plan: true,
  fetch: true,
  drives: true,
  export: true,
  import: true,
  serve: true,
  vars: true,
  /** Stage 5: ansible-playbook from the bundle's Kubespray (core/deploy). */
  deploy: true,
  /** Export to and import from tar-archive parts (core/export archive.ts, core/import archive.ts). */
  archive: true,
} as const;
