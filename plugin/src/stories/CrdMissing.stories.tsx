/*
 * A cluster without headlamp-operator's CRDs: the API server answers the lists 404, and each list
 * page says so and how to install them.
 */
import { Meta, StoryFn } from '@storybook/react';
import { PortForwardList } from '../components/PortForwardList';
import { ResourcePatchList } from '../components/ResourcePatchList';
import { cluster, inHeadlamp } from './StoryContext';

export default {
  title: 'CRD missing',
  decorators: [inHeadlamp],
  parameters: cluster({ crdsMissing: true }),
} as Meta;

export const PortForwards: StoryFn = () => <PortForwardList />;

export const ResourcePatches: StoryFn = () => <ResourcePatchList />;
