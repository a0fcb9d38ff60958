/*
 * The PortForward custom resource (manifests/crds/portforwards.yaml, docs/portforward.md): a
 * KubeObject class for Headlamp's lists, details and API calls, and the pure functions the views use.
 */
// KubeObject is reached through the lib's K8s namespace (Headlamp's pluginLib.K8s.cluster at run time),
// an import that also resolves in the unit tests, where the lib is replaced by stand-ins.
import { K8s } from '@kinvolk/headlamp-plugin/lib';
import { API_VERSION, OperatorResourceInterface, OperatorStatus } from './common';

export interface PortForwardSpec {
  cluster: string;
  service?: string;
  pod?: string;
  namespace?: string;
  serviceNamespace?: string;
  targetPort?: string | number;
  port?: number;
  address?: string;
  id?: string;
  state?: 'Running' | 'Stopped';
  deletionPolicy?: 'Delete' | 'Stop' | 'Orphan';
  credentials?: {
    tokenSecretRef?: { name: string; key?: string };
    kubeconfigSecretRef?: { name: string; key?: string };
  };
}

export interface PortForwardStatus extends OperatorStatus {
  id?: string;
  port?: number | string;
  pod?: string;
  lastSyncTime?: string;
}

export interface KubePortForward extends OperatorResourceInterface {
  spec: PortForwardSpec;
  status?: PortForwardStatus;
}

/** Where the plugin shows PortForwards (registered in index.tsx). */
export const PORTFORWARD_LIST_ROUTE = '/headlamp-operator/portforwards';
export const PORTFORWARD_DETAILS_ROUTE = '/headlamp-operator/portforwards/:namespace/:name';

export class PortForward extends K8s.cluster.KubeObject<KubePortForward> {
  static kind = 'PortForward';
  static apiName = 'portforwards';
  static apiVersion = API_VERSION;
  static isNamespaced = true;

  // The route of our own details view, not Headlamp's generic custom resource page.
  static get detailsRoute() {
    return PORTFORWARD_DETAILS_ROUTE;
  }

  get spec(): PortForwardSpec {
    return this.jsonData.spec;
  }

  get status(): PortForwardStatus {
    return this.jsonData.status || {};
  }
}

/**
 * What the forward points at, as one short text: `service monitoring/grafana:http`,
 * `pod monitoring/redis-0:6379`, or `adopted id ...` for a forward adopted by `spec.id` alone.
 * The namespace defaults to the PortForward's own, as the operator reads it.
 */
export function portForwardTarget(pf: KubePortForward): string {
  const spec = pf.spec || ({} as PortForwardSpec);
  const ns = spec.namespace || pf.metadata?.namespace || '';
  const port = spec.targetPort !== undefined && spec.targetPort !== '' ? `:${spec.targetPort}` : '';
  if (spec.service) {
    const svcNs = spec.serviceNamespace || ns;
    return `service ${svcNs}/${spec.service}${port}`;
  }
  if (spec.pod) {
    return `pod ${ns}/${spec.pod}${port}`;
  }
  if (spec.id) {
    return `adopted id ${spec.id}`;
  }
  return '';
}

/** The local port on the Headlamp host, as the backend reported it (status.port), or ''. */
export function localPort(pf: KubePortForward): string {
  const port = pf.status?.port;
  return port === undefined || port === null || port === '' ? '' : String(port);
}

/** The pod actually forwarded to (status.pod), or ''. */
export function forwardedPod(pf: KubePortForward): string {
  return pf.status?.pod || '';
}

/** spec.state, with the CRD's default. */
export function desiredState(pf: KubePortForward): 'Running' | 'Stopped' {
  return pf.spec?.state === 'Stopped' ? 'Stopped' : 'Running';
}

/** spec.deletionPolicy, with the CRD's default, and what it does (docs/portforward.md). */
export function deletionPolicy(pf: KubePortForward): 'Delete' | 'Stop' | 'Orphan' {
  return pf.spec?.deletionPolicy || 'Delete';
}

export function deletionPolicyText(pf: KubePortForward): string {
  switch (deletionPolicy(pf)) {
    case 'Stop':
      return "Stop: the forward is closed and stays in Headlamp's list as Stopped.";
    case 'Orphan':
      return 'Orphan: the forward is left running as it is.';
    default:
      return "Delete: the forward is closed and removed from Headlamp's list.";
  }
}

/** The id the backend knows the forward by: status.id, else spec.id, else the resource's uid. */
export function forwardId(pf: KubePortForward): string {
  return pf.status?.id || pf.spec?.id || pf.metadata?.uid || '';
}
