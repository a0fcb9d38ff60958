// Headlamp's plugin lib as stand-ins (see src/testing/headlampLib.tsx).
vi.mock('@kinvolk/headlamp-plugin/lib', () => vi.importActual('../testing/headlampLib'));

import { phaseLabelStatus, phaseText, readyStatus, statusMessage } from '../resources/common';
import {
  deletionPolicy,
  deletionPolicyText,
  desiredState,
  forwardedPod,
  forwardId,
  localPort,
  portForwardTarget,
} from '../resources/portForward';
import {
  isDryRun,
  isSecretTarget,
  patchType,
  resourcePatchTarget,
  revertRows,
} from '../resources/resourcePatch';
import {
  failedForward,
  grafanaForward,
  previewPatch,
  revertDeployment,
  secretPatch,
} from './fixtures';

describe('the Ready column and the phase', () => {
  test('Ready is the Ready condition status', () => {
    expect(readyStatus(grafanaForward)).toBe('True');
    expect(readyStatus(failedForward)).toBe('False');
  });
  test('no status yet reads Unknown and Pending', () => {
    const fresh = { status: undefined };
    expect(readyStatus(fresh)).toBe('Unknown');
    expect(phaseText(fresh)).toBe('Pending');
    expect(statusMessage(fresh)).toBe('');
  });
  test('each phase has a label colour', () => {
    expect(phaseLabelStatus('Running')).toBe('success');
    expect(phaseLabelStatus('Applied')).toBe('success');
    expect(phaseLabelStatus('Previewed')).toBe('success');
    expect(phaseLabelStatus('Stopped')).toBe('');
    expect(phaseLabelStatus('Pending')).toBe('warning');
    expect(phaseLabelStatus('Failed')).toBe('error');
  });
  test('Status is the message', () => {
    expect(statusMessage(failedForward)).toMatch(/^pod monitoring\/redis-0 does not exist/);
  });
});

describe('PortForward columns', () => {
  test('a service target with its namespace and named port', () => {
    expect(portForwardTarget(grafanaForward)).toBe('service monitoring/grafana:http');
  });
  test('a service in another namespace than the pods', () => {
    const pf = { ...grafanaForward, spec: { ...grafanaForward.spec, serviceNamespace: 'obs' } };
    expect(portForwardTarget(pf)).toBe('service obs/grafana:http');
  });
  test('a pod target, numeric port', () => {
    expect(portForwardTarget(failedForward as any)).toBe('pod monitoring/redis-0:6379');
  });
  test('the namespace defaults to the PortForward own', () => {
    const pf = {
      metadata: { name: 'x', namespace: 'team-a' },
      spec: { cluster: 'c', pod: 'p', targetPort: 80 },
    };
    expect(portForwardTarget(pf as any)).toBe('pod team-a/p:80');
  });
  test('an adopted forward shows its id', () => {
    const pf = { metadata: { name: 'x', namespace: 'demo' }, spec: { cluster: 'c', id: 'abc' } };
    expect(portForwardTarget(pf as any)).toBe('adopted id abc');
  });
  test('local port and pod come from the status', () => {
    expect(localPort(grafanaForward)).toBe('18080');
    expect(forwardedPod(grafanaForward)).toBe('grafana-0');
    expect(localPort(failedForward as any)).toBe('');
    expect(forwardedPod(failedForward as any)).toBe('');
  });
  test('defaults of state and deletionPolicy', () => {
    expect(desiredState(grafanaForward)).toBe('Running');
    expect(deletionPolicy(grafanaForward)).toBe('Delete');
    expect(deletionPolicy(failedForward as any)).toBe('Stop');
    expect(deletionPolicyText(failedForward as any)).toMatch(/stays in Headlamp's list as Stopped/);
  });
  test('the forward id: status, then spec, then uid', () => {
    expect(forwardId(grafanaForward)).toBe('8d0c3d4e-0000-4000-8000-000000000001');
    expect(forwardId(failedForward as any)).toBe('uid-redis');
    expect(forwardId({ metadata: { uid: 'u' }, spec: { cluster: 'c', id: 'given' } } as any)).toBe(
      'given'
    );
  });
});

describe('ResourcePatch columns', () => {
  test('kind namespace/name', () => {
    expect(resourcePatchTarget(previewPatch as any)).toBe('Deployment shop/web');
  });
  test('the namespace defaults to the ResourcePatch own; subresource shown', () => {
    const rp = {
      metadata: { namespace: 'demo' },
      spec: { target: { kind: 'Deployment', name: 'web' }, subresource: 'scale' },
    };
    expect(resourcePatchTarget(rp as any)).toBe('Deployment demo/web/scale');
  });
  test('a cluster-scoped kind has no namespace', () => {
    const rp = {
      metadata: { namespace: 'demo' },
      spec: { target: { apiVersion: 'v1', kind: 'Node', name: 'n1' } },
    };
    expect(resourcePatchTarget(rp as any)).toBe('Node n1');
  });
  test('patch type default and dry run', () => {
    expect(patchType(revertDeployment as any)).toBe('merge');
    expect(patchType({ spec: { patchType: 'json' } } as any)).toBe('json');
    expect(isDryRun(previewPatch as any)).toBe(true);
    expect(isDryRun(revertDeployment as any)).toBe(false);
  });
});

describe('the undo record', () => {
  test('paths and prior values of an ordinary target', () => {
    expect(revertRows(revertDeployment as any)).toEqual([
      { path: '/metadata/labels/example.com~1load-test', hadValue: false, before: '' },
      { path: '/spec/replicas', hadValue: true, before: '3' },
    ]);
  });
  test('a Secret target never gives a value, even one the status holds', () => {
    expect(isSecretTarget(secretPatch as any)).toBe(true);
    const rows = revertRows(secretPatch as any);
    expect(rows.map(r => r.path)).toEqual(['/data/password', '/data/user']);
    expect(rows.every(r => r.before === '')).toBe(true);
    expect(JSON.stringify(rows)).not.toContain('czNjcjN0');
    expect(rows[1].hadValue).toBeNull();
  });
});
