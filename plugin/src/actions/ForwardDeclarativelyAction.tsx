/*
 * "Forward declaratively": a header action on a Pod's or a Service's details page, beside Headlamp's own
 * port-forward, that creates a PortForward instead of an in-memory forward: the operator keeps it
 * running (a new pod behind the service, a Headlamp restart) until the resource says otherwise.
 */
import type { KubeObject } from '@kinvolk/headlamp-plugin/lib/k8s/cluster';
import { getCluster } from '@kinvolk/headlamp-plugin/lib/Utils';
import Button from '@mui/material/Button';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogContentText from '@mui/material/DialogContentText';
import DialogTitle from '@mui/material/DialogTitle';
import TextField from '@mui/material/TextField';
import { useState } from 'react';
import { PortForward } from '../resources/portForward';
import { authRequestForCreate } from './authorization';
import { AuthorizedActionButton } from './AuthorizedActionButton';
import { defaultPortForwardName, isValidName, isValidTargetPort, newPortForward } from './patches';
import { useWrite } from './useWrite';

/** The first port a Pod's containers or a Service declares, to fill the dialog in. */
export function firstPort(item: { kind?: string; spec?: any }): string {
  if (item.kind === 'Service') {
    const p = item.spec?.ports?.[0];
    return p ? String(p.name || p.port) : '';
  }
  for (const c of item.spec?.containers || []) {
    const p = c.ports?.[0];
    if (p) {
      return String(p.containerPort);
    }
  }
  return '';
}

function ForwardDialog(props: { item: KubeObject; cluster: string; onClose: () => void }) {
  const { item, cluster, onClose } = props;
  const write = useWrite();
  const initialPort = firstPort(item.jsonData);
  const [namespace, setNamespace] = useState(item.getNamespace() || 'default');
  const [targetPort, setTargetPort] = useState(initialPort);
  const [name, setName] = useState(defaultPortForwardName(item.getName(), initialPort || 'port'));
  const [secret, setSecret] = useState('');
  const nameOk = isValidName(name);
  const nsOk = isValidName(namespace);
  const portOk = isValidTargetPort(targetPort);

  return (
    <Dialog open onClose={onClose} aria-labelledby="hpo-forward-title">
      <DialogTitle id="hpo-forward-title">Forward declaratively</DialogTitle>
      <DialogContent>
        <DialogContentText>
          {`Create a PortForward for ${
            item.kind
          } ${item.getNamespace()}/${item.getName()} in cluster "${cluster}": headlamp-operator starts the forward and keeps it running.`}
        </DialogContentText>
        <TextField
          margin="dense"
          fullWidth
          label="Namespace of the PortForward"
          value={namespace}
          error={!nsOk}
          onChange={e => setNamespace(e.target.value)}
        />
        <TextField
          margin="dense"
          fullWidth
          label="Name"
          value={name}
          error={!nameOk}
          helperText={nameOk ? '' : 'lower case letters, digits, - and .'}
          onChange={e => setName(e.target.value)}
        />
        <TextField
          margin="dense"
          fullWidth
          label="Target port (number or name)"
          value={targetPort}
          error={!portOk}
          onChange={e => setTargetPort(e.target.value)}
        />
        <TextField
          margin="dense"
          fullWidth
          label="Token Secret (optional, key `token`, in the PortForward's namespace)"
          value={secret}
          helperText="The operator needs credentials for the cluster unless it allows anonymous use."
          onChange={e => setSecret(e.target.value)}
        />
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Cancel</Button>
        <Button
          variant="contained"
          disabled={!nameOk || !nsOk || !portOk}
          onClick={() => {
            const body = newPortForward({
              cluster,
              namespace,
              name,
              targetKind: item.kind === 'Service' ? 'Service' : 'Pod',
              targetName: item.getName(),
              targetNamespace: item.getNamespace() || namespace,
              targetPort,
              tokenSecretName: secret,
            });
            onClose();
            write(`Create PortForward ${body.metadata.name}`, () =>
              PortForward.apiEndpoint.post(body, {}, cluster)
            );
          }}
        >
          Create
        </Button>
      </DialogActions>
    </Dialog>
  );
}

/** The header action itself: only on Pods and Services (registered for every details page). */
export function ForwardDeclarativelyAction({ item }: { item?: KubeObject }) {
  const [open, setOpen] = useState(false);
  if (!item || (item.kind !== 'Pod' && item.kind !== 'Service')) {
    return null;
  }
  const cluster = item.cluster || getCluster() || '';
  const namespace = item.getNamespace() || 'default';
  return (
    <>
      <AuthorizedActionButton
        auth={authRequestForCreate(PortForward, namespace, cluster)}
        description="Forward declaratively"
        longDescription="Create a PortForward (headlamp-operator) for this target"
        icon="mdi:lan-connect"
        onClick={() => setOpen(true)}
      />
      {open && <ForwardDialog item={item} cluster={cluster} onClose={() => setOpen(false)} />}
    </>
  );
}
