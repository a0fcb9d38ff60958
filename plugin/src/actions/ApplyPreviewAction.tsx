/*
 * Apply a previewed ResourcePatch: `spec.dryRun: false`. Shown only while the patch is a preview.
 */
import { ConfirmDialog } from '@kinvolk/headlamp-plugin/lib/CommonComponents';
import { useState } from 'react';
import { isDryRun, ResourcePatch, resourcePatchTarget } from '../resources/resourcePatch';
import { authRequestForItem } from './authorization';
import { AuthorizedActionButton } from './AuthorizedActionButton';
import { applyPreviewBody } from './patches';
import { useWrite } from './useWrite';

export function ApplyPreviewAction({ item }: { item: ResourcePatch }) {
  const write = useWrite();
  const [open, setOpen] = useState(false);
  if (!isDryRun(item.jsonData)) {
    return null;
  }
  return (
    <>
      <AuthorizedActionButton
        auth={authRequestForItem(item, 'patch')}
        description="Apply"
        longDescription="Apply the previewed patch (spec.dryRun: false)"
        icon="mdi:check-circle"
        onClick={() => setOpen(true)}
      />
      <ConfirmDialog
        open={open}
        title="Apply the patch"
        description={`Apply the previewed patch to ${resourcePatchTarget(
          item.jsonData
        )}? This sets spec.dryRun to false: the operator then patches the object.`}
        confirmLabel="Apply"
        cancelLabel="Cancel"
        handleClose={() => setOpen(false)}
        onConfirm={() => {
          setOpen(false);
          write(`Apply ${item.getName()}`, () => item.patch(applyPreviewBody()));
        }}
      />
    </>
  );
}
