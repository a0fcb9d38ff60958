/*
 * What the list says when the operator's CRDs are not installed in the cluster: the list request
 * answers 404 (the API server serves no headlamp-operator.dev/v1alpha1 resource of that name).
 */
import { GROUP } from '../resources/common';

/** Whether a list's errors say that the resource type does not exist in the cluster. */
export function isCrdMissing(errors: ReadonlyArray<{ status?: number } | null> | null | undefined) {
  return !!errors && errors.some(e => e?.status === 404);
}

/** The message and the install commands shown instead of the list. */
export function crdMissingText(plural: string) {
  return {
    title: `The ${plural}.${GROUP} CRD is not installed in this cluster`,
    body:
      `This cluster does not serve ${plural}.${GROUP}: headlamp-operator is not installed here. ` +
      'Install it (CRDs, RBAC and the operator) with one of:',
    commands: [
      'kubectl apply -k manifests/   # from a checkout of headlamp-operator',
      'helm install headlamp-operator charts/headlamp-operator -n headlamp-operator --create-namespace',
    ],
  };
}
