/*
 * Runs one of the actions' writes and says how it went, in Headlamp's snackbar.
 */
import { useSnackbar } from 'notistack';
import { useCallback } from 'react';

/** The text of a failed write: the API server's message where there is one (RBAC, validation). */
export function writeErrorText(what: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return `${what} failed: ${message}`;
}

export function useWrite() {
  const { enqueueSnackbar } = useSnackbar();
  return useCallback(
    (what: string, write: () => Promise<unknown>) =>
      write().then(
        () => {
          enqueueSnackbar(`${what}: done`, { variant: 'success' });
          return true;
        },
        err => {
          enqueueSnackbar(writeErrorText(what, err), { variant: 'error' });
          return false;
        }
      ),
    [enqueueSnackbar]
  );
}
