/*
 * What PortForward and ResourcePatch share: the API group, the status every resource of the operator
 * carries (docs/status.md: phase, reason, message, conditions), and how Headlamp shows it.
 */
import type { KubeObjectInterface } from '@kinvolk/headlamp-plugin/lib/k8s/cluster';

/** The operator's API group and version (manifests/crds/*.yaml). */
export const GROUP = 'headlamp-operator.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** The annotation that asks the operator to reconcile a resource now (docs/status.md, "Retrying"). */
export const RETRY_ANNOTATION = 'reconcile.headlamp-operator.dev/requestedAt';

/** A kstatus condition as the operator writes it (Ready, Reconciling, Stalled). */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown' | string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

export type Phase = 'Pending' | 'Running' | 'Stopped' | 'Applied' | 'Previewed' | 'Failed';

/** The status fields both kinds have (docs/status.md). */
export interface OperatorStatus {
  phase?: Phase | string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
  conditions?: Condition[];
  lastHandledReconcileAt?: string;
}

export interface OperatorResourceInterface extends KubeObjectInterface {
  spec: Record<string, any>;
  status?: OperatorStatus;
}

/**
 * The Ready condition's status, as the CRDs' `Ready` printer column shows it: True, False or Unknown,
 * and `Unknown` too while the operator has not written any status yet.
 */
export function readyStatus(obj: { status?: OperatorStatus } | null | undefined): string {
  const ready = obj?.status?.conditions?.find(c => c.type === 'Ready');
  return ready?.status || 'Unknown';
}

/** The colour of Headlamp's StatusLabel for a phase: Ready phases green, Pending amber, Failed red. */
export type LabelStatus = 'success' | 'warning' | 'error' | '';

export function phaseLabelStatus(phase: string | undefined): LabelStatus {
  switch (phase) {
    case 'Running':
    case 'Applied':
    case 'Previewed':
      return 'success';
    case 'Stopped':
      // Stopped counts as Ready (it is what `state: Stopped` asks), but nothing runs: neutral.
      return '';
    case 'Pending':
      return 'warning';
    case 'Failed':
      return 'error';
    default:
      return '';
  }
}

/** The phase as shown in lists and details: `Pending` until the operator writes one. */
export function phaseText(obj: { status?: OperatorStatus } | null | undefined): string {
  return obj?.status?.phase || 'Pending';
}

/** The "Status" column: status.message, as `kubectl get` shows it. */
export function statusMessage(obj: { status?: OperatorStatus } | null | undefined): string {
  return obj?.status?.message || '';
}

/** Whether the operator has seen the current spec (kstatus: observedGeneration == generation). */
export function isObservedGeneration(
  obj: { status?: OperatorStatus; metadata?: { generation?: number } } | null | undefined
): boolean {
  const generation = obj?.metadata?.generation;
  const observed = obj?.status?.observedGeneration;
  return generation === undefined || observed === generation;
}
