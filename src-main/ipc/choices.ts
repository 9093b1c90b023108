/**
 * The fixed choice lists of the cluster step, without a schema library, so the renderer can
 * import them without bundling zod. contract.ts builds its enums from these.
 */
export const ARCHES = ['amd64', 'arm64'] as const;
/** Node OSes whose packages Ferry carries (core/kinds/os.ts OS_IDS; a test keeps them equal). */
export const NODE_OSES = [
  'debian-12',
  'debian-13',
  'ubuntu-22.04',
  'ubuntu-24.04',
  'rocky-9',
  'alma-9',
  'rhel-9',
  'rocky-10',
  'alma-10',
  'rhel-10',
] as const;
/** The RPM-family node OSes (core/kinds/os.ts RPM_OS_IDS; a test keeps them equal). */
export const RPM_NODE_OSES = ['rocky-9', 'alma-9', 'rhel-9', 'rocky-10', 'alma-10', 'rhel-10'] as const;
/**
 * The node OSes with no public repository: the cluster step asks for their base URL (a
 * Satellite, a reposync, an ISO over HTTP), as --rpm-repo does.
 */
export const RPM_OSES_NEEDING_URL = ['rhel-9', 'rhel-10'] as const;
export const RUNTIMES = ['containerd', 'crio', 'docker'] as const;
export const NETWORK_PLUGINS = [
  'calico',
  'cilium',
  'flannel',
  'kube-ovn',
  'kube-router',
  'macvlan',
  'custom_cni',
] as const;
export const ADDONS = [
  'helm',
  'metrics_server',
  'ingress_nginx',
  'cert_manager',
  'local_path_provisioner',
  'metallb',
  'argocd',
  'krew',
] as const;
/** Deploy-host OSes whose Python and glibc Ferry knows (core/kinds/python/targets.ts OS_TARGETS). */
export const DEPLOY_OSES = ['debian-12', 'ubuntu-22.04', 'ubuntu-24.04', 'rocky-9', 'rhel-9'] as const;
/** The deploy host's architecture, in Python's names. */
export const DEPLOY_ARCHES = ['x86_64', 'aarch64'] as const;
/** https URL prefixes the app may hand to the OS browser. */
export const OPEN_EXTERNAL_ALLOWLIST = [
  'https://github.com/kubernetes-sigs/kubespray',
  'https://kubespray.io',
] as const;
