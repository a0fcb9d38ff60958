// Headlamp's plugin lib as stand-ins (see src/testing/headlampLib.tsx).
vi.mock('@kinvolk/headlamp-plugin/lib', () => vi.importActual('../testing/headlampLib'));

import { authStateFromReview, deniedText } from '../actions/authorization';
import { crdMissingText, isCrdMissing } from '../components/crdMissing';
import {
  findHeadlampForward,
  isLocalHeadlamp,
  localForwardUrl,
} from '../components/headlampForward';
import { failedForward, grafanaForward, headlampForwards } from './fixtures';

describe("Headlamp's forward list", () => {
  test('joined by id', () => {
    expect(findHeadlampForward(grafanaForward, headlampForwards)?.pod).toBe('grafana-0');
    expect(findHeadlampForward(failedForward as any, headlampForwards)).toBeNull();
    expect(findHeadlampForward(grafanaForward, null)).toBeNull();
  });

  test('the page is on the forward machine only on loopback names', () => {
    expect(isLocalHeadlamp('localhost')).toBe(true);
    expect(isLocalHeadlamp('127.0.0.1')).toBe(true);
    expect(isLocalHeadlamp('[::1]')).toBe(true);
    expect(isLocalHeadlamp('headlamp.example.com')).toBe(false);
    expect(isLocalHeadlamp('10.0.0.5')).toBe(false);
  });

  test('the link: localhost and the port, when running and local', () => {
    const fwd = findHeadlampForward(grafanaForward, headlampForwards);
    expect(localForwardUrl(grafanaForward, fwd, 'localhost')).toBe('http://localhost:18080');
    expect(localForwardUrl(grafanaForward, fwd, 'headlamp.example.com')).toBeNull();
  });

  test('no link for a forward that does not run', () => {
    const fwd = { ...headlampForwards[0], status: 'Stopped' };
    expect(localForwardUrl(grafanaForward, fwd, 'localhost')).toBeNull();
    expect(localForwardUrl(failedForward as any, null, 'localhost')).toBeNull();
  });

  test("the forward's own address when it has one", () => {
    const fwd = { ...headlampForwards[0], address: '127.0.0.2' } as any;
    expect(localForwardUrl(grafanaForward, fwd, '127.0.0.1')).toBe('http://127.0.0.2:18080');
    const v6 = { ...headlampForwards[0], address: '::1' } as any;
    expect(localForwardUrl(grafanaForward, v6, 'localhost')).toBe('http://[::1]:18080');
    const any = { ...headlampForwards[0], address: '0.0.0.0' } as any;
    expect(localForwardUrl(grafanaForward, any, 'localhost')).toBe('http://localhost:18080');
  });

  test("status.port when Headlamp's list has no entry", () => {
    expect(localForwardUrl(grafanaForward, null, 'localhost')).toBe('http://localhost:18080');
  });
});

describe('CRDs not installed', () => {
  test('a 404 of the list', () => {
    expect(isCrdMissing([{ status: 404 }])).toBe(true);
    expect(isCrdMissing([{ status: 403 }])).toBe(false);
    expect(isCrdMissing(null)).toBe(false);
  });
  test('the message names the CRD and both ways to install', () => {
    const text = crdMissingText('portforwards');
    expect(text.title).toContain('portforwards.headlamp-operator.dev');
    expect(text.commands.join('\n')).toContain('kubectl apply -k manifests/');
    expect(text.commands.join('\n')).toContain('charts/headlamp-operator');
  });
});

describe('RBAC', () => {
  test('allowed', () => {
    expect(authStateFromReview({ status: { allowed: true } }, 'patch', 'portforwards')).toEqual({
      allowed: true,
      reason: '',
    });
  });
  test('denied, with the reason', () => {
    const state = authStateFromReview(
      { status: { allowed: false, reason: 'no RBAC policy matched' } },
      'delete',
      'portforwards',
      'demo',
      'grafana'
    );
    expect(state.allowed).toBe(false);
    expect(state.reason).toBe(
      'Your Kubernetes user may not delete portforwards "grafana" in namespace "demo" (RBAC): no RBAC policy matched'
    );
  });
  test('denied without a reason still says what', () => {
    expect(deniedText('create', 'portforwards', 'demo')).toBe(
      'Your Kubernetes user may not create portforwards in namespace "demo" (RBAC)'
    );
  });
});
