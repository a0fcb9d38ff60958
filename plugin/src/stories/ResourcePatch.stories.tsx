/*
 * The ResourcePatch views with what the real API server returned (apiserver.ts): the list, a Secret
 * patched with drift corrected and an undo record (whose values are never shown), a preview, a patch
 * the API server refused. plugin/browser/stories.browser.mjs opens each in Chromium.
 */
import { Meta, StoryFn } from '@storybook/react';
import { ResourcePatchDetail } from '../components/ResourcePatchDetail';
import { ResourcePatchList } from '../components/ResourcePatchList';
import { cluster, inHeadlamp } from './StoryContext';

export default {
  title: 'ResourcePatch',
  decorators: [inHeadlamp],
  parameters: cluster(),
} as Meta;

export const List: StoryFn = () => <ResourcePatchList />;

export const AppliedWithDriftAndUndo: StoryFn = () => (
  <ResourcePatchDetail namespace="demo" name="rotate-password" />
);

export const UndoRecord: StoryFn = () => (
  <ResourcePatchDetail namespace="demo" name="web-load-test" />
);

export const Previewed: StoryFn = () => <ResourcePatchDetail namespace="demo" name="web-preview" />;

export const Failed: StoryFn = () => (
  <ResourcePatchDetail namespace="demo" name="web-replicas-invalid" />
);

/** A user who may read ResourcePatches but not patch them: Apply is disabled, with the reason. */
export const ForbiddenApply: StoryFn = () => (
  <ResourcePatchDetail namespace="demo" name="web-preview" />
);
ForbiddenApply.parameters = cluster({ denied: ['patch', 'delete'] });
