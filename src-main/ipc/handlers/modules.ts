/**
 * Which core areas this build wires to the app. The renderer reads it (app.info) to show a
 * plain "not in this build" note on a step instead of a button that can only fail. A handler for
 * an area marked false answers UNSUPPORTED; it never pretends to succeed.
 */
export const MODULES = {
  keys: true,
  verify: true,
  settings: true,
  plan: false,
  fetch: false,
  drives: false,
  export: false,
  import: false,
  serve: false,
  vars: false,
} as const;
