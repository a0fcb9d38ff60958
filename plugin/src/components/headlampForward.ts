/*
 * The join between a PortForward and the entry of Headlamp's own port-forward list (the backend's
 * `GET /clusters/{cluster}/portforward/list`, the plugin lib's `listPortForward`), by id.
 */
import type { PortForward as HeadlampForward } from '@kinvolk/headlamp-plugin/lib/lib/k8s/api/v1/portForward';
import { forwardId, KubePortForward, localPort } from '../resources/portForward';

export type { HeadlampForward };

/** The entry of Headlamp's list whose id is the resource's forward id, or null. */
export function findHeadlampForward(
  pf: KubePortForward,
  forwards: HeadlampForward[] | null | undefined
): HeadlampForward | null {
  const id = forwardId(pf);
  if (!id || !forwards) {
    return null;
  }
  return forwards.find(f => f.id === id) || null;
}

/**
 * Whether the forward listens on the machine of this browser: Headlamp's forwards listen on the host
 * of the Headlamp backend, so only when the page is served from this machine (the desktop app, a
 * headlamp-server run on the workstation) is `localhost:PORT` the forward. Behind an ingress it is not.
 */
export function isLocalHeadlamp(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return (
    h === 'localhost' ||
    h === '127.0.0.1' ||
    h === '::1' ||
    h === '[::1]' ||
    h.endsWith('.localhost')
  );
}

/**
 * The URL to open the forward at, or null when there is none to show: the page is not on the
 * forward's machine, the forward is not running, or no port is known. The address is the forward's
 * own when it has one that can be dialled (not a wildcard), else `localhost`.
 */
export function localForwardUrl(
  pf: KubePortForward,
  forward: HeadlampForward | null,
  hostname: string
): string | null {
  if (!isLocalHeadlamp(hostname)) {
    return null;
  }
  if (pf.status?.phase !== 'Running') {
    return null;
  }
  if (forward && forward.status && forward.status !== 'Running') {
    return null;
  }
  const port = (forward?.port && String(forward.port)) || localPort(pf);
  if (!port) {
    return null;
  }
  let address = ((forward as { address?: string } | null)?.address || '').trim();
  if (!address || address === '0.0.0.0' || address === '::' || address === '[::]') {
    address = 'localhost';
  }
  if (address.includes(':') && !address.startsWith('[')) {
    address = `[${address}]`;
  }
  return `http://${address}:${port}`;
}
