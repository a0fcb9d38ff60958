/*
 * Whether the user may make an action's write, asked the way Headlamp asks it: a
 * SelfSubjectAccessReview through `KubeObject.getAuthorization(verb)`, with the user's own credentials.
 * Headlamp's AuthVisible hides what is forbidden; the plugin disables it and says why.
 */
import type { KubeObject, KubeObjectClass } from '@kinvolk/headlamp-plugin/lib/k8s/cluster';
import { useEffect, useState } from 'react';

export interface AuthState {
  /** null while the review is under way. */
  allowed: boolean | null;
  /** Why not, shown as the disabled action's tooltip. */
  reason: string;
}

/** The sentence shown on a forbidden action. The API server's own reason is often empty for RBAC. */
export function deniedText(
  verb: string,
  resource: string,
  namespace?: string,
  name?: string,
  reason?: string
): string {
  const what = name ? `${resource} "${name}"` : resource;
  const where = namespace ? ` in namespace "${namespace}"` : '';
  const why = reason ? `: ${reason}` : '';
  return `Your Kubernetes user may not ${verb} ${what}${where} (RBAC)${why}`;
}

/** The answer of a SelfSubjectAccessReview (`status.allowed`, `status.reason`) as an AuthState. */
export function authStateFromReview(
  review: { status?: { allowed?: boolean; reason?: string } } | null | undefined,
  verb: string,
  resource: string,
  namespace?: string,
  name?: string
): AuthState {
  if (review?.status?.allowed) {
    return { allowed: true, reason: '' };
  }
  return {
    allowed: false,
    reason: deniedText(verb, resource, namespace, name, review?.status?.reason),
  };
}

/** One access review to make: what it is about, and how to ask it. */
export interface AuthRequest {
  verb: string;
  resource: string;
  namespace?: string;
  name?: string;
  /** Identifies the question, so the review is asked again only when it changes. */
  key: string;
  ask: () => Promise<any>;
}

/** The review for `verb` on one object (patch, delete). */
export function authRequestForItem(item: KubeObject, verb: string): AuthRequest {
  const namespace = item.metadata?.namespace;
  const name = item.metadata?.name;
  return {
    verb,
    resource: item._class().apiName,
    namespace,
    name,
    key: `${item.cluster}|${item._class().apiName}|${namespace}|${name}|${verb}`,
    ask: () => item.getAuthorization(verb),
  };
}

/** The review for creating an object of a class in a namespace of a cluster. */
export function authRequestForCreate(
  cls: KubeObjectClass,
  namespace: string,
  cluster?: string
): AuthRequest {
  return {
    verb: 'create',
    resource: cls.apiName,
    namespace,
    key: `${cluster}|${cls.apiName}|${namespace}|create`,
    ask: () => cls.getAuthorization('create', { namespace }, cluster),
  };
}

/**
 * The user's permission for a request. A review that fails (an old API server, a network error)
 * leaves the action enabled: the write itself is still checked by the API server, and its error shown.
 */
export function useAuthorization(request: AuthRequest | null): AuthState {
  const [state, setState] = useState<AuthState>({ allowed: null, reason: '' });
  const key = request?.key ?? '';

  useEffect(() => {
    if (!request) {
      return;
    }
    let cancelled = false;
    setState({ allowed: null, reason: '' });
    Promise.resolve()
      .then(() => request.ask())
      .then(review => {
        if (!cancelled) {
          setState(
            authStateFromReview(
              review,
              request.verb,
              request.resource,
              request.namespace,
              request.name
            )
          );
        }
      })
      .catch(() => {
        if (!cancelled) {
          setState({ allowed: true, reason: '' });
        }
      });
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  return state;
}
