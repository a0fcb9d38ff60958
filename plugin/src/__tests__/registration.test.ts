// Headlamp's plugin lib as stand-ins (see src/testing/headlampLib.tsx).
vi.mock('@kinvolk/headlamp-plugin/lib', () => vi.importActual('../testing/headlampLib'));
vi.mock('@kinvolk/headlamp-plugin/lib/CommonComponents', () =>
  vi.importActual('../testing/headlampLib')
);
vi.mock('@kinvolk/headlamp-plugin/lib/ApiProxy', () => vi.importActual('../testing/headlampLib'));
vi.mock('@kinvolk/headlamp-plugin/lib/Utils', () => vi.importActual('../testing/headlampLib'));

import '../index';
import { registered } from '../testing/headlampLib';

test('the plugin registers its sidebar entries, routes and the header action', () => {
  const sidebar = registered.filter(r => r.fn === 'registerSidebarEntry').map(r => r.arg.url);
  expect(sidebar).toEqual([
    '/headlamp-operator/portforwards',
    '/headlamp-operator/portforwards',
    '/headlamp-operator/resourcepatches',
  ]);
  const routes = registered
    .filter(r => r.fn === 'registerRoute')
    .map(r => [r.arg.name, r.arg.path]);
  expect(routes).toEqual([
    ['PortForwards', '/headlamp-operator/portforwards'],
    ['PortForward', '/headlamp-operator/portforwards/:namespace/:name'],
    ['ResourcePatches', '/headlamp-operator/resourcepatches'],
    ['ResourcePatch', '/headlamp-operator/resourcepatches/:namespace/:name'],
  ]);
  expect(registered.filter(r => r.fn === 'registerDetailsViewHeaderAction')).toHaveLength(1);
});
