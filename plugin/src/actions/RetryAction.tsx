/*
 * Retry now: a new value of the `reconcile.headlamp-operator.dev/requestedAt` annotation, which makes
 * the operator reconcile the resource at once (docs/status.md, "Retrying a failed resource").
 */
import type { KubeObject } from '@kinvolk/headlamp-plugin/lib/k8s/cluster';
import { authRequestForItem } from './authorization';
import { AuthorizedActionButton } from './AuthorizedActionButton';
import { retryBody } from './patches';
import { useWrite } from './useWrite';

export function RetryAction({ item }: { item: KubeObject }) {
  const write = useWrite();
  return (
    <AuthorizedActionButton
      auth={authRequestForItem(item, 'patch')}
      description="Retry now"
      longDescription="Ask the operator to reconcile now (the requestedAt annotation)"
      icon="mdi:refresh"
      onClick={() => write(`Retry ${item.getName()}`, () => item.patch(retryBody(new Date())))}
    />
  );
}
