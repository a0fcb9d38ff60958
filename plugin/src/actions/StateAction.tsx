/*
 * Stop / Start a PortForward: a merge patch of `spec.state` (the operator stops the forward at the
 * backend, or starts it again under the same id and local port).
 */
import { desiredState, PortForward } from '../resources/portForward';
import { authRequestForItem } from './authorization';
import { AuthorizedActionButton } from './AuthorizedActionButton';
import { stateBody } from './patches';
import { useWrite } from './useWrite';

export function StateAction({ item }: { item: PortForward }) {
  const write = useWrite();
  const stopped = desiredState(item.jsonData) === 'Stopped';
  const next = stopped ? 'Running' : 'Stopped';
  const description = stopped ? 'Start' : 'Stop';
  return (
    <AuthorizedActionButton
      auth={authRequestForItem(item, 'patch')}
      description={description}
      longDescription={
        stopped
          ? 'Start the forward again (spec.state: Running)'
          : 'Stop the forward (spec.state: Stopped)'
      }
      // Icons Headlamp bundles: others are fetched from api.iconify.design, and offline show nothing.
      icon={stopped ? 'mdi:play-circle' : 'mdi:stop-circle-outline'}
      onClick={() => write(`${description} ${item.getName()}`, () => item.patch(stateBody(next)))}
    />
  );
}
