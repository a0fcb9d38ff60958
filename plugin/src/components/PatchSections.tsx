/*
 * A ResourcePatch's own sections: the preview of a dryRun patch, the undo record of revertOnDelete
 * (never a Secret's values), and the drift corrections of reapplyInterval.
 */
import { SectionBox, SimpleTable } from '@kinvolk/headlamp-plugin/lib/CommonComponents';
import { KubeResourcePatch, revertRows } from '../resources/resourcePatch';

export function PreviewSection({ rp }: { rp: KubeResourcePatch }) {
  const preview = rp.status?.preview;
  if (!preview) {
    return null;
  }
  return (
    <SectionBox title="Preview (dryRun: nothing was changed)">
      <SimpleTable
        columns={[
          { label: 'Path', getter: item => item.path },
          { label: 'Before', getter: item => item.before ?? '(absent)' },
          { label: 'After', getter: item => item.after ?? '(absent)' },
        ]}
        data={preview}
        emptyMessage="The patch touches no path."
      />
    </SectionBox>
  );
}

/** What a row of the undo record says about the prior value. */
export function priorValueText(
  row: { hadValue: boolean | null; before: string },
  secretName?: string
) {
  if (row.hadValue === null) {
    return secretName ? `kept in Secret ${secretName}` : 'kept in the record Secret';
  }
  if (!row.hadValue) {
    return 'none (the undo removes the path)';
  }
  return row.before || '(kept in the record Secret)';
}

export function RevertSection({ rp }: { rp: KubeResourcePatch }) {
  const revert = rp.status?.revert;
  if (!revert) {
    return null;
  }
  const rows = revertRows(rp);
  const target = revert.target;
  return (
    <SectionBox title="Undo record (revertOnDelete)">
      <p>
        {`${revert.complete ? 'Complete' : 'Not complete (the PATCH has not answered yet)'}${
          target
            ? `; taken from ${target.kind} ${target.namespace ? target.namespace + '/' : ''}${
                target.name
              }`
            : ''
        }${revert.secretName ? `; prior values in Secret ${revert.secretName}` : ''}`}
      </p>
      <SimpleTable
        columns={[
          { label: 'Path', getter: row => row.path },
          {
            label: 'Had a prior value',
            getter: row => (row.hadValue === null ? 'see Secret' : row.hadValue ? 'yes' : 'no'),
          },
          { label: 'Prior value', getter: row => priorValueText(row, revert.secretName) },
        ]}
        data={rows}
        emptyMessage="No path recorded."
      />
    </SectionBox>
  );
}
