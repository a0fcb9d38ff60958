/*
 * The ResourcePatches of the current cluster, in all namespaces (Headlamp's namespace filter applies),
 * with the columns of `kubectl get rpatch` (manifests/crds/resourcepatches.yaml).
 */
import { ResourceListView } from '@kinvolk/headlamp-plugin/lib/CommonComponents';
import { readyStatus, statusMessage } from '../resources/common';
import { patchType, ResourcePatch, resourcePatchTarget } from '../resources/resourcePatch';
import { CrdGate } from './CrdGate';

export const resourcePatchColumns = [
  {
    id: 'target',
    label: 'Target',
    getValue: (rp: ResourcePatch) => resourcePatchTarget(rp.jsonData),
  },
  { id: 'type', label: 'Patch type', getValue: (rp: ResourcePatch) => patchType(rp.jsonData) },
  {
    id: 'dryrun',
    label: 'Dry-run',
    getValue: (rp: ResourcePatch) => (rp.jsonData.spec?.dryRun ? 'true' : 'false'),
  },
  { id: 'ready', label: 'Ready', getValue: (rp: ResourcePatch) => readyStatus(rp.jsonData) },
  {
    id: 'status',
    label: 'Status',
    getValue: (rp: ResourcePatch) => statusMessage(rp.jsonData),
    gridTemplate: 'auto',
  },
];

export function ResourcePatchList() {
  return (
    <CrdGate resourceClass={ResourcePatch}>
      <ResourceListView
        title="ResourcePatches"
        resourceClass={ResourcePatch}
        id="headlamp-operator-resourcepatches"
        columns={['name', 'namespace', ...resourcePatchColumns, 'age']}
      />
    </CrdGate>
  );
}
