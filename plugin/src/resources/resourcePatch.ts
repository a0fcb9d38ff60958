/*
 * The ResourcePatch custom resource (manifests/crds/resourcepatches.yaml, docs/resourcepatch.md): a
 * KubeObject class for Headlamp's lists, details and API calls, and the pure functions the views use.
 */
// KubeObject is reached through the lib's K8s namespace (Headlamp's pluginLib.K8s.cluster at run time),
// an import that also resolves in the unit tests, where the lib is replaced by stand-ins.
import { K8s } from '@kinvolk/headlamp-plugin/lib';
import { API_VERSION, OperatorResourceInterface, OperatorStatus } from './common';

export interface PatchTarget {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface ResourcePatchSpec {
  cluster: string;
  target: PatchTarget;
  subresource?: '' | 'status' | 'scale';
  patchType?: 'merge' | 'json' | 'strategic';
  patch: unknown;
  reapplyInterval?: string;
  dryRun?: boolean;
  revertOnDelete?: boolean;
  credentials?: Record<string, unknown>;
}

/** One path of a preview: the value's compact JSON before and after; a side is absent where the path is. */
export interface PreviewItem {
  path: string;
  before?: string;
  after?: string;
}

/** One path of the undo record: `before` (the prior value's JSON) absent where the path was absent. */
export interface RevertPath {
  path: string;
  before?: string;
  applied?: string;
}

export interface RevertRecord {
  patch?: string;
  complete?: boolean;
  target?: PatchTarget & { subresource?: string; uid?: string };
  paths?: RevertPath[];
  /** For a Secret target: the Secret that holds the prior values (the status has digests only). */
  secretName?: string;
}

export interface ResourcePatchStatus extends OperatorStatus {
  lastAppliedTime?: string;
  target?: { uid?: string; resourceVersion?: string };
  preview?: PreviewItem[];
  revert?: RevertRecord;
  driftCorrections?: number;
  lastDriftTime?: string;
}

export interface KubeResourcePatch extends OperatorResourceInterface {
  spec: ResourcePatchSpec;
  status?: ResourcePatchStatus;
}

export const RESOURCEPATCH_LIST_ROUTE = '/headlamp-operator/resourcepatches';
export const RESOURCEPATCH_DETAILS_ROUTE = '/headlamp-operator/resourcepatches/:namespace/:name';

export class ResourcePatch extends K8s.cluster.KubeObject<KubeResourcePatch> {
  static kind = 'ResourcePatch';
  static apiName = 'resourcepatches';
  static apiVersion = API_VERSION;
  static isNamespaced = true;

  static get detailsRoute() {
    return RESOURCEPATCH_DETAILS_ROUTE;
  }

  get spec(): ResourcePatchSpec {
    return this.jsonData.spec;
  }

  get status(): ResourcePatchStatus {
    return this.jsonData.status || {};
  }
}

/**
 * Built-in kinds that are cluster-scoped: for them the operator ignores the namespace, and so does
 * the target text. (A custom cluster-scoped kind shows the namespace the spec gives, if any.)
 */
const CLUSTER_SCOPED_KINDS = new Set([
  'Namespace',
  'Node',
  'PersistentVolume',
  'StorageClass',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PriorityClass',
  'IngressClass',
  'RuntimeClass',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'APIService',
  'CSIDriver',
  'CSINode',
  'VolumeAttachment',
]);

/**
 * The patched object as one text: `Deployment shop/web`, `Node worker-1`, with `/scale` or `/status`
 * after it for a subresource. The namespace defaults to the ResourcePatch's own, as the operator reads it.
 */
export function resourcePatchTarget(rp: KubeResourcePatch): string {
  const target = rp.spec?.target;
  if (!target) {
    return '';
  }
  let ns = '';
  if (target.namespace) {
    ns = target.namespace;
  } else if (!CLUSTER_SCOPED_KINDS.has(target.kind)) {
    ns = rp.metadata?.namespace || '';
  }
  const sub = rp.spec.subresource ? `/${rp.spec.subresource}` : '';
  return `${target.kind} ${ns ? ns + '/' : ''}${target.name}${sub}`;
}

/** spec.patchType, with the CRD's default. */
export function patchType(rp: KubeResourcePatch): string {
  return rp.spec?.patchType || 'merge';
}

export function isDryRun(rp: KubeResourcePatch): boolean {
  return rp.spec?.dryRun === true;
}

/** Whether the target is a core Secret: its values are never shown (only digests are in the status). */
export function isSecretTarget(rp: KubeResourcePatch): boolean {
  const target = rp.spec?.target;
  return target?.apiVersion === 'v1' && target?.kind === 'Secret';
}

/**
 * The undo record's rows as the details view shows them: each path, and whether it had a prior value
 * (`false`: the path was absent, so the undo removes it). For a Secret target the prior values live in
 * the Secret `status.revert.secretName`, not in the status (docs/resourcepatch.md, "Secrets"), so whether
 * a path had one is not known here (`null`), and no value is ever shown, whatever the status holds.
 */
export interface RevertRow {
  path: string;
  hadValue: boolean | null;
  /** The prior value's compact JSON; always '' for a Secret target. */
  before: string;
}

export function revertRows(rp: KubeResourcePatch): RevertRow[] {
  const revert = rp.status?.revert;
  const secret = isSecretTarget(rp) || !!revert?.secretName;
  return (revert?.paths || []).map(p => {
    if (secret) {
      return { path: p.path, hadValue: p.before !== undefined ? true : null, before: '' };
    }
    return { path: p.path, hadValue: p.before !== undefined, before: p.before ?? '' };
  });
}
