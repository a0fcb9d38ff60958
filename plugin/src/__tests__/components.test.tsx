// Headlamp's plugin lib as stand-ins (see src/testing/headlampLib.tsx).
vi.mock('@kinvolk/headlamp-plugin/lib', () => vi.importActual('../testing/headlampLib'));
vi.mock('@kinvolk/headlamp-plugin/lib/CommonComponents', () =>
  vi.importActual('../testing/headlampLib')
);
vi.mock('@kinvolk/headlamp-plugin/lib/ApiProxy', () => vi.importActual('../testing/headlampLib'));
vi.mock('@kinvolk/headlamp-plugin/lib/Utils', () => vi.importActual('../testing/headlampLib'));

import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { ForwardDeclarativelyAction } from '../actions/ForwardDeclarativelyAction';
import { PortForwardDetail } from '../components/PortForwardDetail';
import { PortForwardList } from '../components/PortForwardList';
import { ResourcePatchDetail } from '../components/ResourcePatchDetail';
import { ResourcePatchList } from '../components/ResourcePatchList';
import { PortForward } from '../resources/portForward';
import { api, KubeObject, resetApi } from '../testing/headlampLib';

/** A Pod or a Service as Headlamp hands it to a header action (the stand-in class, typed as the lib's). */
const kubeObject = (json: any, cluster?: string) => new KubeObject(json, cluster) as any;
import { renderInHeadlamp } from '../testing/setup';
import {
  failedForward,
  grafanaForward,
  headlampForwards,
  previewPatch,
  revertDeployment,
  secretPatch,
} from './fixtures';

beforeEach(() => resetApi());

/** The button once the access review has answered and allowed it (it is disabled until then). */
function enabledButton(name: string) {
  return waitFor(() => {
    const button = screen.getByRole('button', { name }) as HTMLButtonElement;
    expect(button.disabled).toBe(false);
    return button;
  });
}

function rowOf(text: string) {
  return screen.getByText(text).closest('tr') as HTMLElement;
}

describe('the PortForward list', () => {
  test('one row per resource, with the kubectl get columns', () => {
    api.lists.portforwards = { items: [grafanaForward, failedForward], errors: null };
    renderInHeadlamp(<PortForwardList />);
    const headers = screen.getAllByRole('columnheader').map(h => h.textContent);
    expect(headers).toEqual([
      'Name',
      'Namespace',
      'Target',
      'Local port',
      'Pod',
      'Ready',
      'Status',
      'Age',
    ]);
    const grafana = within(rowOf('grafana'));
    grafana.getByText('service monitoring/grafana:http');
    grafana.getByText('18080');
    grafana.getByText('grafana-0');
    grafana.getByText('True');
    grafana.getByText('forwarding localhost:18080 -> monitoring/grafana-0:3000');
    const redis = within(rowOf('redis'));
    redis.getByText('pod monitoring/redis-0:6379');
    redis.getByText('False');
  });

  test('CRDs not installed: says so and how to install', () => {
    api.lists.portforwards = { items: null, errors: [{ status: 404, message: 'not found' }] };
    renderInHeadlamp(<PortForwardList />);
    screen.getByText('The portforwards.headlamp-operator.dev CRD is not installed in this cluster');
    expect(screen.getByText(/kubectl apply -k manifests\//)).toBeTruthy();
    expect(screen.queryByRole('columnheader')).toBeNull();
  });

  test('another error is left to the table', () => {
    api.lists.portforwards = { items: null, errors: [{ status: 403, message: 'forbidden' }] };
    renderInHeadlamp(<PortForwardList />);
    expect(screen.queryByText(/CRD is not installed/)).toBeNull();
    screen.getByRole('alert');
  });
});

describe('the ResourcePatch list', () => {
  test('target and patch type columns', () => {
    api.lists.resourcepatches = { items: [previewPatch, secretPatch], errors: null };
    renderInHeadlamp(<ResourcePatchList />);
    const preview = within(rowOf('web-preview'));
    preview.getByText('Deployment shop/web');
    preview.getByText('merge');
    preview.getByText('true');
    within(rowOf('rotate-password')).getByText('Secret demo/db');
  });
});

describe('the PortForward details', () => {
  function showGrafana(body: any = grafanaForward) {
    api.gets['portforwards/demo/grafana'] = body;
    api.forwards = headlampForwards;
    return renderInHeadlamp(<PortForwardDetail namespace="demo" name="grafana" />);
  }

  test('status, conditions, events and Headlamp own forward with the localhost link', async () => {
    showGrafana();
    expect(
      within(screen.getByTestId('row-Phase')).getByText('Running').getAttribute('data-status')
    ).toBe('success');
    within(screen.getByTestId('row-Reason')).getByText('Started');
    within(screen.getByTestId('row-Deletion policy')).getByText('Delete');
    screen.getByText('Ready=True Started');
    screen.getByText('Events');
    // jsdom's page is http://localhost:3000/: the forward runs on this machine.
    const link = await screen.findByRole('link', { name: 'http://localhost:18080' });
    expect(link.getAttribute('href')).toBe('http://localhost:18080');
    within(screen.getByTestId('row-ID')).getByText('8d0c3d4e-0000-4000-8000-000000000001');
  });

  test('a forward Headlamp does not list says so, without a link', async () => {
    api.forwards = [];
    api.gets['portforwards/demo/grafana'] = grafanaForward;
    renderInHeadlamp(<PortForwardDetail namespace="demo" name="grafana" />);
    await screen.findByText(/Headlamp lists no forward with id 8d0c3d4e/);
    expect(screen.queryByRole('link')).toBeNull();
  });

  test('a stopped forward says it is not running, without a link', async () => {
    const stopped = {
      ...grafanaForward,
      spec: { ...grafanaForward.spec, state: 'Stopped' },
      status: { ...grafanaForward.status, phase: 'Stopped', reason: 'Stopped' },
    };
    api.forwards = headlampForwards.map(f => ({ ...f, status: 'Stopped' }));
    api.gets['portforwards/demo/grafana'] = stopped;
    renderInHeadlamp(<PortForwardDetail namespace="demo" name="grafana" />);
    await screen.findByText('The forward is not running.');
    expect(screen.queryByRole('link', { name: /localhost/ })).toBeNull();
  });

  test('Stop sends spec.state Stopped as a merge patch', async () => {
    showGrafana();
    fireEvent.click(await enabledButton('Stop'));
    await waitFor(() => expect(api.writes).toHaveLength(1));
    expect(api.writes[0]).toMatchObject({
      op: 'patch',
      apiName: 'portforwards',
      namespace: 'demo',
      name: 'grafana',
      body: { spec: { state: 'Stopped' } },
    });
  });

  test('a stopped forward offers Start', async () => {
    showGrafana({ ...grafanaForward, spec: { ...grafanaForward.spec, state: 'Stopped' } });
    fireEvent.click(await enabledButton('Start'));
    await waitFor(() => expect(api.writes[0]?.body).toEqual({ spec: { state: 'Running' } }));
  });

  test('Retry now sets the requestedAt annotation', async () => {
    showGrafana();
    fireEvent.click(await enabledButton('Retry now'));
    await waitFor(() => expect(api.writes).toHaveLength(1));
    const value =
      api.writes[0].body.metadata.annotations['reconcile.headlamp-operator.dev/requestedAt'];
    expect(new Date(value).toISOString()).toBe(value);
  });

  test('Delete asks first, showing the deletion policy, then deletes', async () => {
    api.gets['portforwards/demo/redis'] = failedForward;
    renderInHeadlamp(<PortForwardDetail namespace="demo" name="redis" />);
    fireEvent.click(await enabledButton('Delete'));
    const dialog = screen.getByRole('dialog');
    within(dialog).getByText(
      /Deletion policy: Stop: the forward is closed and stays in Headlamp's list/
    );
    expect(api.writes).toHaveLength(0);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Delete' }));
    await waitFor(() =>
      expect(api.writes).toEqual([expect.objectContaining({ op: 'delete', name: 'redis' })])
    );
  });

  test('the default deletion policy is named in the dialog', async () => {
    showGrafana();
    fireEvent.click(await enabledButton('Delete'));
    within(screen.getByRole('dialog')).getByText(/Delete is the default/);
  });

  test('actions the RBAC forbids are disabled, with the reason', async () => {
    api.auth.patch = { allowed: false, reason: '' };
    showGrafana();
    const stop = await waitFor(() => {
      const button = screen.getByRole('button', { name: 'Stop' }) as HTMLButtonElement;
      expect(button.disabled).toBe(true);
      return button;
    });
    fireEvent.click(stop);
    expect(api.writes).toHaveLength(0);
    const holder = screen.getByTestId('disabled-Stop');
    fireEvent.mouseOver(holder);
    await screen.findByText(
      'Your Kubernetes user may not patch portforwards "grafana" in namespace "demo" (RBAC)'
    );
    // delete is allowed: enabled.
    expect((screen.getByRole('button', { name: 'Delete' }) as HTMLButtonElement).disabled).toBe(
      false
    );
  });
});

describe('the ResourcePatch details', () => {
  test('a preview: the table and the Apply action that sets dryRun false', async () => {
    api.gets['resourcepatches/demo/web-preview'] = previewPatch;
    renderInHeadlamp(<ResourcePatchDetail namespace="demo" name="web-preview" />);
    const replicas = within(rowOf('/spec/replicas'));
    replicas.getByText('3');
    replicas.getByText('5');
    within(rowOf('/metadata/labels/tier')).getByText('(absent)');
    fireEvent.click(await enabledButton('Apply'));
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Apply' }));
    await waitFor(() => expect(api.writes[0]?.body).toEqual({ spec: { dryRun: false } }));
  });

  test('no Apply for a patch that is not a preview', async () => {
    api.gets['resourcepatches/demo/web-load-test'] = revertDeployment;
    renderInHeadlamp(<ResourcePatchDetail namespace="demo" name="web-load-test" />);
    await enabledButton('Retry now');
    expect(screen.queryByRole('button', { name: 'Apply' })).toBeNull();
    // The undo record of an ordinary target: paths, whether each had a value, the value.
    within(rowOf('/spec/replicas')).getByText('yes');
    within(rowOf('/metadata/labels/example.com~1load-test')).getByText(
      'none (the undo removes the path)'
    );
  });

  test('a Secret target: the undo record names the Secret and shows no value; drift is shown', () => {
    api.gets['resourcepatches/demo/rotate-password'] = secretPatch;
    const { container } = renderInHeadlamp(
      <ResourcePatchDetail namespace="demo" name="rotate-password" />
    );
    expect(container.textContent).not.toContain('czNjcjN0');
    expect(container.textContent).not.toContain('hunter2');
    screen.getByText(/prior values in Secret rotate-password-revert-x7k2p/);
    within(rowOf('/data/user')).getByText('kept in Secret rotate-password-revert-x7k2p');
    within(screen.getByTestId('row-Drift corrections')).getByText('2 (last 2025-01-02T03:04:05Z)');
  });
});

describe('Forward declaratively', () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'redis-0', namespace: 'monitoring' },
    spec: { containers: [{ name: 'redis', ports: [{ containerPort: 6379 }] }] },
  };

  test('not on other kinds', () => {
    const cm = kubeObject({ kind: 'ConfigMap', metadata: { name: 'x', namespace: 'y' } });
    const { container } = renderInHeadlamp(<ForwardDeclarativelyAction item={cm} />);
    expect(container.innerHTML).toBe('');
  });

  test('creates a PortForward in the pod namespace for the current cluster', async () => {
    renderInHeadlamp(<ForwardDeclarativelyAction item={kubeObject(pod, 'kind-dev')} />);
    fireEvent.click(await enabledButton('Forward declaratively'));
    expect((screen.getByLabelText('Target port (number or name)') as HTMLInputElement).value).toBe(
      '6379'
    );
    expect((screen.getByLabelText('Name') as HTMLInputElement).value).toBe('redis-0-6379');
    fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(api.writes).toHaveLength(1));
    expect(api.writes[0]).toMatchObject({
      op: 'post',
      apiName: PortForward.apiName,
      cluster: 'kind-dev',
      body: {
        apiVersion: 'headlamp-operator.dev/v1alpha1',
        kind: 'PortForward',
        metadata: { name: 'redis-0-6379', namespace: 'monitoring' },
        spec: { cluster: 'kind-dev', pod: 'redis-0', namespace: 'monitoring', targetPort: 6379 },
      },
    });
  });

  test('a Service, its named port; Create disabled while the port is invalid', async () => {
    const svc = {
      kind: 'Service',
      metadata: { name: 'grafana', namespace: 'monitoring' },
      spec: { ports: [{ name: 'http', port: 80 }] },
    };
    renderInHeadlamp(<ForwardDeclarativelyAction item={kubeObject(svc, 'prod')} />);
    fireEvent.click(await enabledButton('Forward declaratively'));
    const port = screen.getByLabelText('Target port (number or name)');
    fireEvent.change(port, { target: { value: '99999' } });
    expect((screen.getByRole('button', { name: 'Create' }) as HTMLButtonElement).disabled).toBe(
      true
    );
    fireEvent.change(port, { target: { value: 'http' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(api.writes).toHaveLength(1));
    expect(api.writes[0].body.spec).toEqual({
      cluster: 'prod',
      service: 'grafana',
      namespace: 'monitoring',
      targetPort: 'http',
    });
  });

  test('disabled when the user may not create PortForwards', async () => {
    api.auth.create = { allowed: false, reason: '' };
    renderInHeadlamp(<ForwardDeclarativelyAction item={kubeObject(pod, 'kind-dev')} />);
    await waitFor(() =>
      expect(
        (screen.getByRole('button', { name: 'Forward declaratively' }) as HTMLButtonElement)
          .disabled
      ).toBe(true)
    );
  });
});
