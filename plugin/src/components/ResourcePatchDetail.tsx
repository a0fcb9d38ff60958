/*
 * A ResourcePatch's details: status, target, preview, undo record, drift, conditions, events; and the
 * actions apply (a preview), retry now, edit and delete (saying whether it undoes the patch).
 */
import {
  ConditionsSection,
  DetailsGrid,
  EditButton,
} from '@kinvolk/headlamp-plugin/lib/CommonComponents';
import { useParams } from 'react-router-dom';
import { ApplyPreviewAction } from '../actions/ApplyPreviewAction';
import { DeleteAction } from '../actions/DeleteAction';
import { RetryAction } from '../actions/RetryAction';
import { patchType, ResourcePatch, resourcePatchTarget } from '../resources/resourcePatch';
import { PreviewSection, RevertSection } from './PatchSections';
import { statusRows } from './statusRows';

export function resourcePatchActions(item: ResourcePatch | null) {
  if (!item) {
    return [];
  }
  return [
    { id: 'hpo-apply', action: <ApplyPreviewAction item={item} /> },
    { id: 'hpo-retry', action: <RetryAction item={item} /> },
    { id: 'hpo-edit', action: <EditButton item={item} /> },
    { id: 'hpo-delete', action: <DeleteAction item={item} listRouteName="ResourcePatches" /> },
  ];
}

export function resourcePatchInfo(item: ResourcePatch) {
  const rp = item.jsonData;
  const spec = rp.spec || ({} as ResourcePatch['spec']);
  const status = rp.status || {};
  return [
    ...statusRows(rp),
    { name: 'Cluster', value: spec.cluster },
    { name: 'Target', value: resourcePatchTarget(rp) || '-' },
    { name: 'Target apiVersion', value: spec.target?.apiVersion },
    { name: 'Patch type', value: patchType(rp) },
    { name: 'Dry run', value: spec.dryRun ? 'true (preview only)' : 'false' },
    { name: 'Revert on delete', value: spec.revertOnDelete ? 'true' : 'false' },
    { name: 'Reapply interval', value: spec.reapplyInterval || '-' },
    { name: 'Last applied', value: status.lastAppliedTime || '-' },
    {
      name: 'Drift corrections',
      value: `${status.driftCorrections ?? 0}${
        status.lastDriftTime ? ` (last ${status.lastDriftTime})` : ''
      }`,
      hide: !spec.reapplyInterval && !status.driftCorrections,
    },
  ];
}

export function ResourcePatchDetail(props: { namespace?: string; name?: string }) {
  const params = useParams<{ namespace: string; name: string }>();
  const { namespace = params.namespace, name = params.name } = props;
  return (
    <DetailsGrid
      resourceType={ResourcePatch}
      name={name}
      namespace={namespace}
      withEvents
      noDefaultActions
      actions={item => resourcePatchActions(item as ResourcePatch | null)}
      extraInfo={item => (item ? resourcePatchInfo(item as ResourcePatch) : null)}
      extraSections={item =>
        item
          ? [
              { id: 'hpo-preview', section: <PreviewSection rp={item.jsonData} /> },
              { id: 'hpo-revert', section: <RevertSection rp={item.jsonData} /> },
              { id: 'hpo-conditions', section: <ConditionsSection resource={item.jsonData} /> },
            ]
          : []
      }
    />
  );
}
