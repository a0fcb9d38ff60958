/*
 * Delete a PortForward or a ResourcePatch, saying in the confirmation what the operator does then:
 * a PortForward's `spec.deletionPolicy`, a ResourcePatch's `spec.revertOnDelete`.
 */
import { Router } from '@kinvolk/headlamp-plugin/lib';
import { ConfirmDialog } from '@kinvolk/headlamp-plugin/lib/CommonComponents';
import type { KubeObject } from '@kinvolk/headlamp-plugin/lib/k8s/cluster';
import { useState } from 'react';
import { useHistory } from 'react-router-dom';
import { deletionPolicy, deletionPolicyText, KubePortForward } from '../resources/portForward';
import type { KubeResourcePatch } from '../resources/resourcePatch';
import { authRequestForItem } from './authorization';
import { AuthorizedActionButton } from './AuthorizedActionButton';
import { useWrite } from './useWrite';

/** What deleting the resource does, for the confirmation dialog. */
export function deletionConsequence(item: { kind?: string; spec?: any }): string {
  if (item.kind === 'PortForward') {
    const pf = item as KubePortForward;
    return `Deletion policy: ${deletionPolicyText(pf)}${
      pf.spec?.deletionPolicy ? '' : ` (${deletionPolicy(pf)} is the default.)`
    }`;
  }
  const rp = item as KubeResourcePatch;
  return rp.spec?.revertOnDelete
    ? 'revertOnDelete: the operator first puts back what the patch changed, where nobody changed it since.'
    : 'The patched object keeps the patched values (revertOnDelete is off).';
}

/** `listRouteName`: the route (registered in index.tsx) to go to once the resource is deleted. */
export function DeleteAction(props: { item: KubeObject; listRouteName?: string }) {
  const { item, listRouteName } = props;
  const write = useWrite();
  const history = useHistory();
  const [open, setOpen] = useState(false);
  return (
    <>
      <AuthorizedActionButton
        auth={authRequestForItem(item, 'delete')}
        description="Delete"
        icon="mdi:delete"
        onClick={() => setOpen(true)}
      />
      <ConfirmDialog
        open={open}
        title={`Delete ${item.kind} ${item.getName()}`}
        description={
          <>
            <span>{`Delete ${item.kind} ${item.getNamespace()}/${item.getName()}?`}</span>
            <br />
            <span>{deletionConsequence(item.jsonData)}</span>
          </>
        }
        confirmLabel="Delete"
        cancelLabel="Cancel"
        handleClose={() => setOpen(false)}
        onConfirm={() => {
          setOpen(false);
          write(`Delete ${item.getName()}`, () => item.delete()).then(ok => {
            if (ok && listRouteName) {
              history.push(Router.createRouteURL(listRouteName));
            }
          });
        }}
      />
    </>
  );
}
