/*
 * The PortForwards of the current cluster, in all namespaces (Headlamp's namespace filter applies),
 * with the columns of `kubectl get hpf` (manifests/crds/portforwards.yaml).
 */
import { ResourceListView } from '@kinvolk/headlamp-plugin/lib/CommonComponents';
import { readyStatus, statusMessage } from '../resources/common';
import { forwardedPod, localPort, PortForward, portForwardTarget } from '../resources/portForward';
import { CrdGate } from './CrdGate';

/** The columns besides name, namespace and age: each a function of the resource's body. */
export const portForwardColumns = [
  {
    id: 'target',
    label: 'Target',
    getValue: (pf: PortForward) => portForwardTarget(pf.jsonData),
  },
  { id: 'port', label: 'Local port', getValue: (pf: PortForward) => localPort(pf.jsonData) },
  { id: 'pod', label: 'Pod', getValue: (pf: PortForward) => forwardedPod(pf.jsonData) },
  { id: 'ready', label: 'Ready', getValue: (pf: PortForward) => readyStatus(pf.jsonData) },
  {
    id: 'status',
    label: 'Status',
    getValue: (pf: PortForward) => statusMessage(pf.jsonData),
    gridTemplate: 'auto',
  },
];

export function PortForwardList() {
  return (
    <CrdGate resourceClass={PortForward}>
      <ResourceListView
        title="PortForwards"
        resourceClass={PortForward}
        id="headlamp-operator-portforwards"
        columns={['name', 'namespace', ...portForwardColumns, 'age']}
      />
    </CrdGate>
  );
}
