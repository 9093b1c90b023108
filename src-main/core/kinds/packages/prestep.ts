/**
 * The pieces the node pre-step's two plays share (deb/prestep.ts for apt, rpm/prestep.ts for
 * dnf): one playbook, repos/ferry-apt-prestep.yml, holds both, and each play must find out on its
 * own whether a node is its family's and which of its OS's repositories is the node's, then move
 * the distribution's sources aside (and back) the same idempotent way. Each function returns
 * YAML at the play's indentation.
 */

/** What tells one play's family from the other's. */
interface PrestepFamily {
  /** The variables' prefix: ferry_<vars>_repos, ferry_<vars>_state… ('apt', 'rpm'). */
  vars: string;
  /** The package manager, in names and comments ('apt', 'dnf'). */
  tool: string;
  /** ansible_os_family ('Debian', 'RedHat'). */
  family: string;
  /** Ferry's OS ids of the family, by their first part ('debian', 'rocky'). */
  ids: readonly string[];
  /** The play variable holding the package manager's command, its override and its default. */
  command: { name: string; override: string; fallback: string };
}

const APT_PLAY: PrestepFamily = {
  vars: 'apt',
  tool: 'apt',
  family: 'Debian',
  ids: ['debian', 'ubuntu'],
  command: { name: 'apt_get', override: 'ferry_apt_get', fallback: 'apt-get' },
};

const RPM_PLAY: PrestepFamily = {
  vars: 'rpm',
  tool: 'dnf',
  family: 'RedHat',
  ids: ['rocky', 'alma', 'rhel'],
  command: { name: 'dnf', override: 'ferry_dnf', fallback: 'dnf' },
};

/**
 * The play's head, and its first two tasks: facts (only when the variables do not say which OS
 * the node is) and whether the node is this family's at all (in a mixed cluster the other play's
 * node is left alone; with only the other family's variables there is nothing to do).
 */
export function prestepPlayHead(family: 'apt' | 'rpm'): string {
  const [me, other] = family === 'apt' ? [APT_PLAY, RPM_PLAY] : [RPM_PLAY, APT_PLAY];
  const v = me.vars;
  return `- name: Ferry ${me.tool} repository
  hosts: "{{ ferry_${v}_hosts | default('k8s_cluster:etcd') }}"
  become: true
  gather_facts: false
  vars:
    state: "{{ ferry_${v}_state | default('present') }}"
    root: "{{ ferry_${v}_root | default('') }}"
    ${me.command.name}: "{{ ${me.command.override} | default('${me.command.fallback}') }}"
    ${other.vars}_too: "{{ ferry_${other.vars}_repos is defined or ferry_${other.vars}_repo_url is defined }}"
    ${v}_vars: "{{ ferry_${v}_repos is defined or ferry_${v}_repo_url is defined }}"
  tasks:
    # Facts only when the variables do not already say which OS (and family) this node is.
    - name: Facts to pick this node's repository from ferry_${v}_repos
      ansible.builtin.setup:
        gather_subset: [min]
      when: ${v}_vars and ferry_os is not defined and (ferry_${v}_repo_url is not defined or ${other.vars}_too)

    # A ${other.family} node in a mixed cluster is the ${other.tool} play's; with only ${other.tool} variables there is nothing to do.
    - name: Is this a ${me.family}-family node Ferry carries packages for
      ansible.builtin.set_fact:
        ferry_${v}_here: >-
          {{ ${v}_vars and (
               (ferry_os.split('-')[0] in [${me.ids.map((i) => `'${i}'`).join(', ')}]) if ferry_os is defined else
               (ansible_os_family == '${me.family}') if (ferry_${v}_repo_url is not defined or ${other.vars}_too) else
               true) }}`;
}

/** A task finding files under one folder of the node (the sources to move aside, or back). */
export function prestepFindTask(o: {
  name: string;
  dir: string;
  patterns: readonly string[];
  excludes?: readonly string[];
  register: string;
  when: string;
}): string {
  const list = (xs: readonly string[]) => `[${xs.map((x) => `"${x}"`).join(', ')}]`;
  return `    - name: ${o.name}
      ansible.builtin.find:
        paths: "{{ root }}${o.dir}"
        patterns: ${list(o.patterns)}
${o.excludes ? `        excludes: ${list(o.excludes)}\n` : ''}      register: ${o.register}
      when: ${o.when}`;
}

/**
 * A task renaming each file of `loop` to `to` (a template over `item`), never over a file already
 * there: how a play moves the distribution's sources aside, and back.
 */
export function prestepMoveTask(o: { name: string; to: string; loop: string; when: string }): string {
  return `    - name: ${o.name}
      ansible.builtin.command:
        argv: [mv, "--", "{{ item }}", "${o.to}"]
        removes: "{{ item }}"
        creates: "${o.to}"
      loop: "{{ ${o.loop} }}"
      when: ${o.when}`;
}

/** The task writing Ferry's CA (ferry_ca_certificate) to `path` when Ferry serves over TLS. */
export function prestepCaTask(path: string, here: string): string {
  return `    - name: Ferry's CA, when Ferry serves over TLS (ferry_ca_certificate from \`ferry vars --tls\`)
      ansible.builtin.copy:
        dest: "{{ root }}${path}"
        content: "{{ ferry_ca_certificate }}"
        mode: "0644"
      when: state == 'present' and ${here} and ferry_ca_certificate is defined`;
}
