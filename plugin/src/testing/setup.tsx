/*
 * What every component test needs: Headlamp's plugin lib replaced by the stand-ins
 * (src/testing/headlampLib.tsx), and a render with the providers Headlamp gives a plugin (a router,
 * the snackbar).
 */
import { render } from '@testing-library/react';
import { SnackbarProvider } from 'notistack';
import { ReactElement } from 'react';
import { MemoryRouter } from 'react-router-dom';

export function renderInHeadlamp(ui: ReactElement, path = '/') {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <SnackbarProvider>{ui}</SnackbarProvider>
    </MemoryRouter>
  );
}
