/**
 * The RedHat play of the node pre-step (the same playbook as the apt one, repos/ferry-apt-prestep.yml,
 * so one `ansible-playbook` run before cluster.yml points every node at Ferry whatever its family).
 * Kubespray never configures a node's base repositories, and offline the distribution's .repo files
 * point at unreachable mirrors: every dnf call (Kubespray's package tasks included) fails on them.
 *
 * What it does, idempotently: moves every *.repo in /etc/yum.repos.d aside to `<name>.repo.ferry.disabled`
 * (dnf reads only *.repo), downloads the repository keys the bundle carries (the distribution's, so
 * its package signatures check with gpgcheck=1, and Ferry's, which signs repomd.xml for
 * repo_gpgcheck=1) to /etc/pki/rpm-gpg/ferry/, each checked against the sha256 `ferry vars` gives
 * (the trust anchor is the verified bundle, not the network), writes /etc/yum.repos.d/ferry.repo and
 * runs `dnf makecache`. module_hotfixes=1: the carried repository holds only the modular packages
 * the plan chose, and dnf must not hide them behind module defaults the node may not have.
 * `ferry_rpm_state: absent` reverses it.
 */

import { prestepCaTask, prestepFindTask, prestepMoveTask, prestepPlayHead } from '../packages/prestep.js';

export const RPM_REPO_PATH = '/etc/yum.repos.d/ferry.repo';
/** Ferry's copies of the keys, in a folder of their own: /etc/pki/rpm-gpg/RPM-GPG-KEY-* belong to packages. */
export const RPM_KEY_DIR = '/etc/pki/rpm-gpg/ferry';
/** Ferry's CA for dnf alone (sslcacert= in ferry.repo), when Ferry serves over TLS. */
export const RPM_CA_DIR = '/etc/pki/ferry';
export const RPM_CA_PATH = `${RPM_CA_DIR}/ferry-ca.crt`;

/** One key a node trusts for Ferry's repository: its bundle file name, where it is served, its sha256. */
export interface RpmNodeKey {
  file: string;
  url: string;
  sha256: string;
}

/** ferry.repo for one OS: `$basearch` picks the node's architecture folder. */
export function rpmRepoFile(o: { os: string; url: string; keys: readonly string[]; ca?: boolean }): string {
  return (
    [
      '[ferry]',
      `name=Ferry ${o.os}`,
      `baseurl=${o.url.replace(/\/+$/, '')}/$basearch`,
      'enabled=1',
      'gpgcheck=1',
      'repo_gpgcheck=1',
      `gpgkey=${o.keys.map((k) => `file://${RPM_KEY_DIR}/${k}`).join(' ')}`,
      'module_hotfixes=1',
      // An unreachable Ferry must fail dnf loudly, never be skipped (some dnf builds default to skipping).
      'skip_if_unavailable=0',
      ...(o.ca ? [`sslcacert=${RPM_CA_PATH}`] : []),
    ].join('\n') + '\n'
  );
}

/**
 * The node's OS id from its facts, as Ferry names OSes (rocky-9, alma-10, rhel-9). Jinja, for the
 * plays; `ferry_os` (inventory) overrides it.
 */
const NODE_RPM_OS =
  "{{ ferry_os | default(({'Rocky': 'rocky', 'AlmaLinux': 'alma', 'RedHat': 'rhel'}[ansible_distribution] | default(ansible_distribution | lower)) ~ '-' ~ ansible_distribution_major_version) }}";

const HERE = "state == 'present' and ferry_rpm_here";
const GONE = "state == 'absent' and ferry_rpm_here";

export function rpmPrestepPlay(): string {
  return `# Ferry: point the nodes' dnf at Ferry's repository before Kubespray's cluster.yml (RedHat family).
# Needs (from \`ferry vars\`): ferry_rpm_repos (per OS id, picked by the node's facts or ferry_os),
# or ferry_rpm_repo_url, ferry_rpm_os and ferry_rpm_keys for one OS.
# Reverse with -e ferry_rpm_state=absent. ferry_rpm_root prefixes every path (a throw-away
# root in tests); ferry_dnf is the dnf command (e.g. "dnf --installroot=/srv/root").
${prestepPlayHead('rpm')}

    - name: This node's repository
      ansible.builtin.set_fact:
        ferry_rpm_repo: >-
          {{ {'os': ferry_rpm_os, 'url': ferry_rpm_repo_url, 'keys': ferry_rpm_keys}
             if ferry_rpm_repo_url is defined else ferry_rpm_repos[ferry_rpm_node_os] }}
      vars:
        ferry_rpm_node_os: "${NODE_RPM_OS}"
      when: state == 'present' and ferry_rpm_here

${prestepFindTask({
  name: "Find the distribution's .repo files",
  dir: '/etc/yum.repos.d',
  patterns: ['*.repo'],
  excludes: ['ferry.repo'],
  register: 'ferry_repo_files',
  when: HERE,
})}

${prestepMoveTask({
  name: "Disable the distribution's .repo files (moved aside, not deleted)",
  to: '{{ item }}.ferry.disabled',
  loop: "ferry_repo_files.files | default([]) | map(attribute='path') | list",
  when: HERE,
})}

    - name: Key and CA folders
      ansible.builtin.file:
        path: "{{ root }}{{ item }}"
        state: directory
        mode: "0755"
      loop: ["${RPM_KEY_DIR}", "${RPM_CA_DIR}"]
      when: state == 'present' and ferry_rpm_here

${prestepCaTask(RPM_CA_PATH, 'ferry_rpm_here')}

    - name: The repository keys, each checked against the bundle's sha256
      ansible.builtin.get_url:
        url: "{{ item.url }}"
        dest: "{{ root }}${RPM_KEY_DIR}/{{ item.file }}"
        checksum: "sha256:{{ item.sha256 }}"
        mode: "0644"
      loop: "{{ ferry_rpm_repo['keys'] }}"
      # ansible-core 2.14's get_url has no ca_path; Python's ssl reads SSL_CERT_FILE instead.
      environment: "{{ {'SSL_CERT_FILE': root ~ '${RPM_CA_PATH}'} if ferry_ca_certificate is defined else {} }}"
      when: state == 'present' and ferry_rpm_here

    # gpgkey= and sslcacert= carry ferry_rpm_root too: \`dnf --installroot\` reads them from the host.
    - name: Ferry's dnf repository
      ansible.builtin.copy:
        dest: "{{ root }}${RPM_REPO_PATH}"
        content: |
          [ferry]
          name=Ferry {{ ferry_rpm_repo.os }}
          baseurl={{ ferry_rpm_repo.url }}/$basearch
          enabled=1
          gpgcheck=1
          repo_gpgcheck=1
          gpgkey={{ ferry_rpm_repo['keys'] | map(attribute='file') | map('regex_replace', '^', 'file://' ~ root ~ '${RPM_KEY_DIR}/') | join(' ') }}
          module_hotfixes=1
          skip_if_unavailable=0
          {% if ferry_ca_certificate is defined %}sslcacert={{ root }}${RPM_CA_PATH}
          {% endif %}
        mode: "0644"
      when: state == 'present' and ferry_rpm_here

${prestepFindTask({
  name: 'Find the .repo files Ferry disabled',
  dir: '/etc/yum.repos.d',
  patterns: ['*.repo.ferry.disabled'],
  register: 'ferry_repo_disabled',
  when: GONE,
})}

${prestepMoveTask({
  name: "Restore the distribution's .repo files",
  to: '{{ item[:-15] }}',
  loop: "ferry_repo_disabled.files | default([]) | map(attribute='path') | list",
  when: GONE,
})}

    - name: Remove Ferry's repository, keys and CA
      ansible.builtin.file:
        path: "{{ item }}"
        state: absent
      loop:
        - "{{ root }}${RPM_REPO_PATH}"
        - "{{ root }}${RPM_KEY_DIR}"
        - "{{ root }}${RPM_CA_DIR}"
      when: state == 'absent' and ferry_rpm_here

    # Imports the keys (repo_gpgcheck) and reads the signed metadata now, so a wrong key fails here.
    - name: dnf makecache
      ansible.builtin.command: "{{ dnf }} -y makecache"
      changed_when: false
      when: ferry_rpm_here and state == 'present'
`;
}

/** The same steps as a POSIX shell snippet for one OS, with the keys inlined (base64): no download. */
export function rpmPrestepShell(o: {
  os: string;
  repoUrl: string;
  keys: ReadonlyArray<{ file: string; data: Uint8Array }>;
}): string {
  const keys = o.keys
    .map(
      (k) =>
        `echo '${Buffer.from(k.data).toString('base64')}' | base64 -d > ${RPM_KEY_DIR}/${k.file}\nchmod 0644 ${RPM_KEY_DIR}/${k.file}`,
    )
    .join('\n');
  const repo = rpmRepoFile({ os: o.os, url: o.repoUrl, keys: o.keys.map((k) => k.file) });
  return `#!/bin/sh
# Ferry: point this node's dnf at Ferry's repository for ${o.os} (undo: see the end).
set -eu
for f in /etc/yum.repos.d/*.repo; do
  [ -e "$f" ] || continue
  [ "$f" = ${RPM_REPO_PATH} ] && continue
  [ -e "$f.ferry.disabled" ] || mv -- "$f" "$f.ferry.disabled"
done
mkdir -p ${RPM_KEY_DIR}
${keys}
cat > ${RPM_REPO_PATH} <<'FERRY_REPO'
${repo}FERRY_REPO
dnf -y makecache
# Undo:
#   for f in /etc/yum.repos.d/*.repo.ferry.disabled; do
#     [ -e "$f" ] && mv -- "$f" "\${f%.ferry.disabled}"; done
#   rm -rf ${RPM_REPO_PATH} ${RPM_KEY_DIR}; dnf makecache
`;
}
