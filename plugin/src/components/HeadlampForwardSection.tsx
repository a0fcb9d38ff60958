/*
 * The entry of Headlamp's own port-forward list that this PortForward is (joined by id), and, when the
 * forward listens on this browser's machine, a link to open it.
 */
import { listPortForward } from '@kinvolk/headlamp-plugin/lib/ApiProxy';
import { NameValueTable, SectionBox } from '@kinvolk/headlamp-plugin/lib/CommonComponents';
import Link from '@mui/material/Link';
import { useEffect, useState } from 'react';
import { forwardId, KubePortForward } from '../resources/portForward';
import { findHeadlampForward, HeadlampForward, localForwardUrl } from './headlampForward';

/** The section's body, from the data alone (the list is fetched by the section below). */
export function HeadlampForwardView(props: {
  pf: KubePortForward;
  forwards: HeadlampForward[] | null;
  error: string | null;
  hostname: string;
}) {
  const { pf, forwards, error, hostname } = props;
  const forward = findHeadlampForward(pf, forwards);
  const url = localForwardUrl(pf, forward, hostname);
  if (error) {
    return <p>{`Headlamp's port-forward list could not be read: ${error}`}</p>;
  }
  if (forwards === null) {
    return <p>Loading Headlamp's port-forward list…</p>;
  }
  if (!forward) {
    return (
      <p>{`Headlamp lists no forward with id ${forwardId(
        pf
      )} (it is not started yet, was deleted, or Headlamp restarted).`}</p>
    );
  }
  return (
    <NameValueTable
      rows={[
        { name: 'ID', value: forward.id },
        { name: 'Status', value: forward.status || '-' },
        { name: 'Pod', value: `${forward.namespace}/${forward.pod}` },
        {
          name: 'Service',
          value: forward.service
            ? `${forward.serviceNamespace || forward.namespace}/${forward.service}`
            : '-',
        },
        { name: 'Target port', value: forward.targetPort },
        { name: 'Local port', value: forward.port },
        { name: 'Error', value: forward.error, hide: !forward.error },
        {
          name: 'Open',
          value: url ? (
            <Link href={url} target="_blank" rel="noopener noreferrer">
              {url}
            </Link>
          ) : pf.status?.phase !== 'Running' || (forward.status && forward.status !== 'Running') ? (
            'The forward is not running.'
          ) : (
            'The forward listens on the host of the Headlamp backend, not on this machine.'
          ),
        },
      ]}
    />
  );
}

export function HeadlampForwardSection({ pf, cluster }: { pf: KubePortForward; cluster: string }) {
  const [forwards, setForwards] = useState<HeadlampForward[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Refreshed with the resource: its status changes when the forward does.
  const version = pf.metadata?.resourceVersion;
  useEffect(() => {
    let cancelled = false;
    listPortForward(cluster)
      .then(list => {
        if (!cancelled) {
          setForwards(list || []);
          setError(null);
        }
      })
      .catch(err => {
        if (!cancelled) {
          setError(err instanceof Error ? err.message : String(err));
        }
      });
    return () => {
      cancelled = true;
    };
  }, [cluster, version]);

  return (
    <SectionBox title="Headlamp's forward">
      <HeadlampForwardView
        pf={pf}
        forwards={forwards}
        error={error}
        hostname={window.location.hostname}
      />
    </SectionBox>
  );
}
