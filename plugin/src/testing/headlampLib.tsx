/*
 * Stand-ins for the parts of Headlamp's plugin lib the plugin uses, for the unit tests.
 *
 * In Headlamp the plugin's imports of `@kinvolk/headlamp-plugin/lib/...` are Headlamp's own running
 * modules (`pluginLib`); the npm package's copy of them does not load under vitest (it imports modules
 * it does not ship). So the tests replace them (vi.mock) with these: the same names and props, simple
 * HTML, and a fake API (`api`) that records every write and answers lists, gets and access reviews.
 */
import React, { PropsWithChildren, ReactNode } from 'react';

/** What the fake API answers, and what it was asked to write. Reset by resetApi() before each test. */
export const api = {
  lists: {} as Record<string, { items: any[] | null; errors: any[] | null }>,
  gets: {} as Record<string, any>,
  /** verb -> the SelfSubjectAccessReview status; default allowed. */
  auth: {} as Record<string, { allowed: boolean; reason?: string }>,
  writes: [] as Array<{
    op: string;
    apiName: string;
    name?: string;
    namespace?: string;
    body?: any;
    cluster?: string;
  }>,
  forwards: [] as any[],
  forwardsError: null as Error | null,
  cluster: 'kind-dev',
};

export function resetApi() {
  api.lists = {};
  api.gets = {};
  api.auth = {};
  api.writes = [];
  api.forwards = [];
  api.forwardsError = null;
  api.cluster = 'kind-dev';
}

/** @kinvolk/headlamp-plugin/lib/k8s/cluster */
export class KubeObject<T = any> {
  static kind = '';
  static apiName = '';
  static apiVersion = '';
  static isNamespaced = true;
  jsonData: T;
  cluster: string;

  constructor(json: T, cluster?: string) {
    this.jsonData = json;
    this.cluster = cluster || api.cluster;
  }
  _class(): any {
    return this.constructor;
  }
  get metadata(): any {
    return (this.jsonData as any).metadata;
  }
  get kind(): string {
    return (this.jsonData as any).kind;
  }
  getName(): string {
    return this.metadata?.name;
  }
  getNamespace(): string {
    return this.metadata?.namespace;
  }
  patch(body: any) {
    api.writes.push({
      op: 'patch',
      apiName: this._class().apiName,
      name: this.getName(),
      namespace: this.getNamespace(),
      body,
      cluster: this.cluster,
    });
    return Promise.resolve(body);
  }
  delete() {
    api.writes.push({
      op: 'delete',
      apiName: this._class().apiName,
      name: this.getName(),
      namespace: this.getNamespace(),
      cluster: this.cluster,
    });
    return Promise.resolve({});
  }
  getAuthorization(verb: string) {
    return Promise.resolve({ status: api.auth[verb] ?? { allowed: true } });
  }
  static getAuthorization(verb: string) {
    return Promise.resolve({ status: api.auth[verb] ?? { allowed: true } });
  }
  static get apiEndpoint() {
    const apiName = this.apiName;
    return {
      post: (body: any, _query: any, cluster: string) => {
        api.writes.push({
          op: 'post',
          apiName,
          name: body.metadata?.name,
          namespace: body.metadata?.namespace,
          body,
          cluster,
        });
        return Promise.resolve(body);
      },
    };
  }
  static useList(this: any) {
    const list = api.lists[this.apiName] ?? { items: [], errors: null };
    const items = list.items ? list.items.map((j: any) => new this(j)) : null;
    return { items, errors: list.errors };
  }
  static useGet(this: any, name: string, namespace?: string) {
    const json = api.gets[`${this.apiName}/${namespace}/${name}`];
    const item = json ? new this(json) : null;
    return [item, null];
  }
}

/** @kinvolk/headlamp-plugin/lib/ApiProxy */
export function listPortForward(cluster: string) {
  void cluster;
  return api.forwardsError ? Promise.reject(api.forwardsError) : Promise.resolve(api.forwards);
}

/** @kinvolk/headlamp-plugin/lib/Utils */
export function getCluster() {
  return api.cluster;
}

/** @kinvolk/headlamp-plugin/lib: Router and the register functions (recorded). */
export const registered: Array<{ fn: string; arg: any }> = [];
export const Router = { createRouteURL: (name: string) => `/c/${api.cluster}/route/${name}` };
export const registerRoute = (arg: any) => registered.push({ fn: 'registerRoute', arg });
export const registerSidebarEntry = (arg: any) =>
  registered.push({ fn: 'registerSidebarEntry', arg });
export const registerDetailsViewHeaderAction = (arg: any) =>
  registered.push({ fn: 'registerDetailsViewHeaderAction', arg });

/** @kinvolk/headlamp-plugin/lib/CommonComponents */
export function SectionBox(props: PropsWithChildren<{ title?: ReactNode }>) {
  return (
    <section>
      <h2>{props.title}</h2>
      {props.children}
    </section>
  );
}

export function SimpleTable(props: {
  columns: Array<{ label: string; getter: (item: any) => ReactNode }>;
  data: any[] | null | undefined;
  emptyMessage?: string;
}) {
  if (!props.data || props.data.length === 0) {
    return <p>{props.emptyMessage}</p>;
  }
  return (
    <table>
      <thead>
        <tr>
          {props.columns.map(c => (
            <th key={c.label}>{c.label}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.data.map((row, i) => (
          <tr key={i}>
            {props.columns.map(c => (
              <td key={c.label}>{c.getter(row)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function NameValueTable(props: {
  rows: Array<{ name: ReactNode; value?: ReactNode; hide?: boolean }>;
}) {
  return (
    <dl>
      {props.rows
        .filter(r => !r.hide)
        .map((r, i) => (
          <div key={i} data-testid={`row-${r.name}`}>
            <dt>{r.name}</dt>
            <dd>{r.value}</dd>
          </div>
        ))}
    </dl>
  );
}

export const StatusLabel = (props: PropsWithChildren<{ status: string }>) => (
  <span data-status={props.status}>{props.children}</span>
);

export function ActionButton(props: {
  description: string;
  longDescription?: string;
  onClick: () => void;
}) {
  return (
    <button aria-label={props.description} title={props.longDescription} onClick={props.onClick}>
      {props.description}
    </button>
  );
}

export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  description: ReactNode;
  onConfirm: () => void;
  handleClose: () => void;
  confirmLabel?: string;
  cancelLabel?: string;
}) {
  if (!props.open) {
    return null;
  }
  return (
    <div role="dialog" aria-label={props.title}>
      <h3>{props.title}</h3>
      <div>{props.description}</div>
      <button onClick={props.handleClose}>{props.cancelLabel || 'Cancel'}</button>
      <button onClick={props.onConfirm}>{props.confirmLabel || 'OK'}</button>
    </div>
  );
}

export const EditButton = () => <button aria-label="Edit">Edit</button>;

export function ConditionsSection({ resource }: { resource: any }) {
  return (
    <SectionBox title="Conditions">
      <ul>
        {(resource?.status?.conditions || []).map((c: any) => (
          <li key={c.type}>{`${c.type}=${c.status} ${c.reason || ''}`}</li>
        ))}
      </ul>
    </SectionBox>
  );
}

const NAMED_COLUMNS: Record<string, [string, (item: any) => ReactNode]> = {
  name: ['Name', item => item.getName()],
  namespace: ['Namespace', item => item.getNamespace()],
  age: ['Age', item => item.metadata?.creationTimestamp],
};

export function ResourceListView(props: { title: string; resourceClass: any; columns: any[] }) {
  const { items, errors } = props.resourceClass.useList();
  const columns = props.columns.map(c =>
    typeof c === 'string'
      ? { label: NAMED_COLUMNS[c][0], value: NAMED_COLUMNS[c][1] }
      : { label: c.label, value: c.render ?? c.getValue }
  );
  return (
    <SectionBox title={props.title}>
      {errors && errors.length > 0 && (
        <p role="alert">{errors.map((e: any) => e.message).join('; ')}</p>
      )}
      <table>
        <thead>
          <tr>
            {columns.map(c => (
              <th key={c.label}>{c.label}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {(items || []).map((item: any) => (
            <tr key={item.getName()}>
              {columns.map(c => (
                <td key={c.label}>{c.value(item)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </SectionBox>
  );
}

export function DetailsGrid(props: {
  resourceType: any;
  name: string;
  namespace?: string;
  withEvents?: boolean;
  actions?: (item: any) => Array<{ id: string; action: ReactNode }>;
  extraInfo?: (item: any) => any[] | null;
  extraSections?: (item: any) => Array<{ id: string; section: ReactNode }>;
}) {
  const [item] = props.resourceType.useGet(props.name, props.namespace);
  if (!item) {
    return <p>Loading</p>;
  }
  return (
    <div>
      <header>
        <h1>{`${item.kind}: ${item.getName()}`}</h1>
        {(props.actions?.(item) || []).map(a => (
          <React.Fragment key={a.id}>{a.action}</React.Fragment>
        ))}
      </header>
      <NameValueTable rows={props.extraInfo?.(item) || []} />
      {(props.extraSections?.(item) || []).map(s => (
        <React.Fragment key={s.id}>{s.section}</React.Fragment>
      ))}
      {props.withEvents && <SectionBox title="Events" />}
    </div>
  );
}

/** @kinvolk/headlamp-plugin/lib: K8s.cluster.KubeObject */
export const K8s = { cluster: { KubeObject } };
