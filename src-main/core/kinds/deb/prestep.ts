/**
 * The node pre-step: Kubespray never configures a node's base repositories, so before
 * `cluster.yml` a node must be pointed at Ferry's apt repository and away from the distribution's
 * (unreachable offline, and apt-get update fails on them). Carried in the bundle at
 * repos/ferry-apt-prestep.yml and printed by `ferry vars --os-prestep`, with the same steps as a
 * shell snippet for a node set up by hand.
 *
 * What it does, idempotently: moves /etc/apt/sources.list and every *.list / *.sources file in
 * sources.list.d (deb822 `debian.sources` on Debian 12, `ubuntu.sources` on Ubuntu 24.04) aside
 * to `<name>.ferry.disabled` (a suffix apt ignores silently, Dir::Ignore-Files-Silently), installs
 * Ferry's keyring at /etc/apt/keyrings/ferry.gpg (downloaded from the repository and checked
 * against the sha256 `ferry vars` gives, so the trust anchor is the verified bundle, not the
 * network), writes sources.list.d/ferry.list and runs apt-get update. `ferry_apt_state: absent`
 * reverses it: the files come back, Ferry's source and keyring go.
 */

import { prestepCaTask, prestepFindTask, prestepMoveTask, prestepPlayHead } from '../packages/prestep.js';
import { rpmPrestepPlay } from '../rpm/prestep.js';

export const PRESTEP_FILE = 'ferry-apt-prestep.yml';
export const KEYRING_PATH = '/etc/apt/keyrings/ferry.gpg';
/** Ferry's CA for apt alone (no ca-certificates needed on the node), and the apt.conf that names it. */
export const CA_PATH = '/etc/apt/ferry-ca.crt';
export const CA_CONF = '/etc/apt/apt.conf.d/60ferry-ca';

/** The apt source line for Ferry's repository of one OS. */
export function aptSourceLine(repoUrl: string, suite: string): string {
  return `deb [signed-by=${KEYRING_PATH}] ${repoUrl} ${suite} main`;
}

const HERE = "state == 'present' and ferry_apt_here";
const GONE = "state == 'absent' and ferry_apt_here";

export function prestepPlaybook(): string {
  return `# Ferry: point the nodes' apt at Ferry's repository before Kubespray's cluster.yml.
# Needs (from \`ferry vars\`): ferry_apt_repos (per OS id, picked by the node's facts or ferry_os),
# or ferry_apt_repo_url, ferry_apt_suite and ferry_apt_keyring_sha256 for one OS.
# Reverse with -e ferry_apt_state=absent. ferry_apt_root prefixes every path (a throw-away
# root in tests); ferry_apt_get is the apt-get command (e.g. "chroot /srv/root apt-get").
${prestepPlayHead('apt')}

    - name: This node's repository
      ansible.builtin.set_fact:
        ferry_repo: >-
          {{ {'url': ferry_apt_repo_url, 'suite': ferry_apt_suite, 'keyring_sha256': ferry_apt_keyring_sha256}
             if ferry_apt_repo_url is defined else
             ferry_apt_repos[ferry_os | default((ansible_distribution | lower) ~ '-' ~
               (ansible_distribution_version if ansible_distribution == 'Ubuntu' else ansible_distribution_major_version))] }}
      when: state == 'present' and ferry_apt_here

${prestepFindTask({
  name: "Find the distribution's apt sources",
  dir: '/etc/apt/sources.list.d',
  patterns: ['*.list', '*.sources'],
  excludes: ['ferry.list'],
  register: 'ferry_sources',
  when: HERE,
})}

${prestepMoveTask({
  name: "Disable the distribution's apt sources (moved aside, not deleted)",
  to: '{{ item }}.ferry.disabled',
  loop: "[root ~ '/etc/apt/sources.list'] + (ferry_sources.files | default([]) | map(attribute='path') | list)",
  when: HERE,
})}

    - name: Keyring folder
      ansible.builtin.file:
        path: "{{ root }}/etc/apt/keyrings"
        state: directory
        mode: "0755"
      when: state == 'present' and ferry_apt_here

${prestepCaTask(CA_PATH, 'ferry_apt_here')}

    - name: apt trusts that CA for Ferry's host only
      ansible.builtin.copy:
        dest: "{{ root }}${CA_CONF}"
        content: "Acquire::https::{{ ferry_repo.url | urlsplit('hostname') }}::CaInfo \\"${CA_PATH}\\";\\n"
        mode: "0644"
      when: state == 'present' and ferry_apt_here and ferry_ca_certificate is defined

    - name: Ferry's repository keyring, checked against the bundle's sha256
      ansible.builtin.get_url:
        url: "{{ ferry_repo.url }}/ferry.gpg"
        dest: "{{ root }}${KEYRING_PATH}"
        checksum: "sha256:{{ ferry_repo.keyring_sha256 }}"
        mode: "0644"
      # ansible-core 2.14's get_url has no ca_path; Python's ssl reads SSL_CERT_FILE instead.
      environment: "{{ {'SSL_CERT_FILE': root ~ '${CA_PATH}'} if ferry_ca_certificate is defined else {} }}"
      when: state == 'present' and ferry_apt_here

    - name: Ferry's apt source
      ansible.builtin.copy:
        dest: "{{ root }}/etc/apt/sources.list.d/ferry.list"
        content: "deb [signed-by=${KEYRING_PATH}] {{ ferry_repo.url }} {{ ferry_repo.suite }} main\\n"
        mode: "0644"
      register: ferry_list
      when: state == 'present' and ferry_apt_here

${prestepFindTask({
  name: 'Find the sources Ferry disabled',
  dir: '/etc/apt/sources.list.d',
  patterns: ['*.ferry.disabled'],
  register: 'ferry_disabled',
  when: GONE,
})}

${prestepMoveTask({
  name: "Restore the distribution's apt sources",
  to: '{{ item[:-15] }}',
  loop: "[root ~ '/etc/apt/sources.list.ferry.disabled'] + (ferry_disabled.files | default([]) | map(attribute='path') | list)",
  when: GONE,
})}

    - name: Remove Ferry's source and keyring
      ansible.builtin.file:
        path: "{{ item }}"
        state: absent
      loop:
        - "{{ root }}/etc/apt/sources.list.d/ferry.list"
        - "{{ root }}${KEYRING_PATH}"
        - "{{ root }}${CA_PATH}"
        - "{{ root }}${CA_CONF}"
      when: state == 'absent' and ferry_apt_here

    - name: apt-get update
      ansible.builtin.command: "{{ apt_get }} update"
      changed_when: false
      when: ferry_apt_here

${rpmPrestepPlay()}`;
}

/** The same steps as a POSIX shell snippet, with the keyring inlined (base64) so it needs no download. */
export function prestepShell(o: { repoUrl: string; suite: string; keyring: Uint8Array }): string {
  const b64 = Buffer.from(o.keyring).toString('base64');
  return `#!/bin/sh
# Ferry: point this node's apt at Ferry's repository (undo: see the end).
set -eu
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -e "$f" ] || continue
  [ "$f" = /etc/apt/sources.list.d/ferry.list ] && continue
  [ -e "$f.ferry.disabled" ] || mv -- "$f" "$f.ferry.disabled"
done
mkdir -p /etc/apt/keyrings
echo '${b64}' | base64 -d > ${KEYRING_PATH}
chmod 0644 ${KEYRING_PATH}
echo '${aptSourceLine(o.repoUrl, o.suite)}' > /etc/apt/sources.list.d/ferry.list
apt-get update
# Undo:
#   for f in /etc/apt/sources.list.ferry.disabled /etc/apt/sources.list.d/*.ferry.disabled; do
#     [ -e "$f" ] && mv -- "$f" "\${f%.ferry.disabled}"; done
#   rm -f /etc/apt/sources.list.d/ferry.list ${KEYRING_PATH}; apt-get update
`;
}
