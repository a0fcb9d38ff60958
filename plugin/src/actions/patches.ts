/*
 * The Kubernetes writes the plugin's actions make, as plain data: each is sent by Headlamp's API proxy
 * with the user's own credentials (KubeObject.patch sends `application/merge-patch+json`). The plugin
 * never talks to the operator: the operator sees the change and acts on it.
 */
import { API_VERSION, RETRY_ANNOTATION } from '../resources/common';
import type { KubePortForward } from '../resources/portForward';

/** Stop or start a forward: `spec.state` (docs/portforward.md, "Stop"). */
export function stateBody(state: 'Running' | 'Stopped') {
  return { spec: { state } };
}

/** Ask the operator to reconcile now: a new value of the retry annotation (docs/status.md). */
export function retryBody(now: Date = new Date()) {
  return { metadata: { annotations: { [RETRY_ANNOTATION]: now.toISOString() } } };
}

/** Apply a previewed ResourcePatch: `spec.dryRun: false` (docs/resourcepatch.md, "Preview"). */
export function applyPreviewBody() {
  return { spec: { dryRun: false } };
}

/** What the "Forward declaratively" dialog asks for. */
export interface NewPortForwardInput {
  /** Headlamp's name of the current cluster (spec.cluster). */
  cluster: string;
  /** The PortForward's namespace and name. */
  namespace: string;
  name: string;
  /** What to forward to: the Pod or Service of the details page, and its namespace. */
  targetKind: 'Pod' | 'Service';
  targetName: string;
  targetNamespace: string;
  /** A port number or name, as `kubectl port-forward` reads it. */
  targetPort: string;
  /** Optional: a Secret in the PortForward's namespace with a token for the cluster (key `token`). */
  tokenSecretName?: string;
}

/** The PortForward the dialog creates (POSTed to the PortForward's namespace). */
export function newPortForward(input: NewPortForwardInput): KubePortForward {
  const port = input.targetPort.trim();
  const spec: KubePortForward['spec'] = {
    cluster: input.cluster,
    namespace: input.targetNamespace,
    // A number is sent as a number, a name as a string: the CRD takes both (int-or-string).
    targetPort: /^\d+$/.test(port) ? Number(port) : port,
  };
  if (input.targetKind === 'Pod') {
    spec.pod = input.targetName;
  } else {
    spec.service = input.targetName;
  }
  const secret = input.tokenSecretName?.trim();
  if (secret) {
    spec.credentials = { tokenSecretRef: { name: secret } };
  }
  return {
    apiVersion: API_VERSION,
    kind: 'PortForward',
    metadata: { name: input.name.trim(), namespace: input.namespace.trim() } as any,
    spec,
  };
}

/** A DNS-1123 name (what the API server accepts as metadata.name). */
export function isValidName(name: string): boolean {
  const n = name.trim();
  return n.length > 0 && n.length <= 253 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(n);
}

/** A target port: 1-65535, or an IANA_SVC_NAME (lower case letters, digits, '-', at most 15). */
export function isValidTargetPort(port: string): boolean {
  const p = port.trim();
  if (/^\d+$/.test(p)) {
    const n = Number(p);
    return n >= 1 && n <= 65535;
  }
  return /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(p) && p.length <= 15 && /[a-z]/.test(p);
}

/** A default name for the new PortForward: the target's name and port. */
export function defaultPortForwardName(targetName: string, targetPort: string): string {
  const base = `${targetName}-${targetPort}`.toLowerCase().replace(/[^-a-z0-9]+/g, '-');
  return base.replace(/^-+|-+$/g, '').slice(0, 63);
}
