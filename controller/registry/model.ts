/**
 * The registry model: MyNodeOne's documents as read from any source (raw), and the one validated
 * shape every later stage works on. Raw documents keep unknown fields (MyNodeOne adds fields over
 * time); the validated model carries only what courier uses, plus the normalized raw documents for
 * the store's `registry/` folder.
 */

/** The five registry documents, named by the key they have in their ConfigMap. */
export const DOCUMENT_NAMES = ['services.json', 'domains.json', 'routing.json', 'registry.json', 'cluster-domain'] as const;
export type DocumentName = (typeof DOCUMENT_NAMES)[number];

/** Where each document lives in Kubernetes (MyNodeOne's ConfigMaps in kube-system). */
export const DOCUMENT_CONFIGMAPS: Record<DocumentName, { configMap: string; key: string }> = {
  'services.json': { configMap: 'service-registry', key: 'services.json' },
  'domains.json': { configMap: 'domain-registry', key: 'domains.json' },
  'routing.json': { configMap: 'domain-registry', key: 'routing.json' },
  'registry.json': { configMap: 'sync-controller-registry', key: 'registry.json' },
  'cluster-domain': { configMap: 'cluster-info', key: 'cluster-domain' },
};

/** One document as a source delivered it: its text, and where it came from (for error messages). */
export interface RawDocument {
  name: DocumentName;
  /** A file path, `configmap/<name>/<key>`, or `<git-commit>:<path>`: used to prefix error messages. */
  origin: string;
  /** json for JSON, yaml for a `.yaml`/`.yml` twin, text for the bare cluster-domain string. */
  format: 'json' | 'yaml' | 'text';
  text: string;
  /** The source state this text is from, for commit triggers: `configmap <name> resourceVersion <rv>`, `git commit <id> of <url>` (files: the origin). */
  version?: string;
}

/** What a source hands to the pipeline: the documents it found and why it was read. */
export interface RegistrySnapshot {
  documents: Partial<Record<DocumentName, RawDocument>>;
  /** Human description of the change that triggered this read, used in the commit message. */
  trigger: string;
}

/** Node roles; registry arrays map to them. */
export type NodeRole = 'laptop' | 'vps' | 'worker';

/** The node registry array for each role. */
export const ROLE_ARRAYS: Record<NodeRole, 'management_laptops' | 'vps_nodes' | 'worker_nodes'> = {
  laptop: 'management_laptops',
  vps: 'vps_nodes',
  worker: 'worker_nodes',
};

/** One service from services.json. */
export interface Service {
  name: string;
  /** '' or '@' mean the bare domain. */
  subdomain: string;
  ip?: string;
  port?: number;
  public: boolean;
  namespace?: string;
}

/** A public edge address from domains.json `vps_nodes`. */
export interface VpsEndpoint {
  tailscaleIp: string;
  publicIp: string;
  location?: string;
}

/** One routing.json entry. */
export interface Routing {
  service: string;
  domains: string[];
  /** Tailscale IPs, in the listed order (order matters for both strategies). */
  vpsNodes: string[];
  strategy: 'round-robin' | 'primary-backup';
}

/** A node from registry.json, with courier's optional connection fields. */
export interface Node {
  name: string;
  role: NodeRole;
  /** Address courier connects to, and the VPS identity routing refers to. */
  ip: string;
  sshUser: string;
  sshPort: number;
  /** Run the agent through `sudo -n`. */
  sudo: boolean;
  /** Prefix the agent puts before every path (many "nodes" on one machine). */
  root?: string;
  transport: 'ssh' | 'local';
  /** Joined by courier: the key runs only the installed agent (`~/.courier/courier-agent`) as a forced command. */
  restricted?: boolean;
}

/** The validated registry: one shape, whatever the source. */
export interface Registry {
  services: Service[];
  domains: string[];
  vpsEndpoints: VpsEndpoint[];
  routing: Routing[];
  nodes: Node[];
  clusterDomain: string;
  /** Normalized documents (parsed, stable key order) as written to the store's registry/ folder. */
  documents: Partial<Record<DocumentName, unknown>>;
}

/** One validation problem: document, JSON path, and a message saying what is wrong and what is expected. */
export interface RegistryProblem {
  document: DocumentName;
  origin: string;
  path: string;
  message: string;
}
