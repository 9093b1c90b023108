import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { useApp } from '../../../src-renderer/src/store.js';
import { VenvSection } from '../../../src-renderer/src/views/offline/DeployStep.js';

/** Server rendering reads the store's initial-state snapshot, so state is copied there too. */
function setState(patch: Partial<ReturnType<typeof useApp.getState>>): void {
  useApp.setState(patch);
  Object.assign(useApp.getInitialState(), useApp.getState());
}

const progress = {
  phase: 'virtualenv',
  bytesDone: 0,
  bytesTotal: 0,
  itemsDone: 0,
  itemsTotal: 0,
  itemsFailed: 0,
  speed: 0,
  eta: null,
};

describe('the Deploy step’s offline virtualenv', () => {
  it('offers to make it, naming how many wheels the bundle carries', () => {
    setState({ jobs: {}, latest: {} });
    const html = renderToStaticMarkup(<VenvSection serveJobId="serve-1" wheels={13} />);
    expect(html).toContain('The bundle carries 13 Python wheels');
    expect(html).toContain('>Make the offline virtualenv</button>');
  });

  it('shows what was made: Python, pip, wheels and the ansible-core checked', () => {
    const result = {
      dir: '/data/deploy/b-1/venv',
      reused: false,
      python: { path: '/usr/bin/python3', version: '3.11.2' },
      pip: '23.0.1',
      installed: Array.from({ length: 13 }, (_, i) => ({
        project: `p${i}`,
        version: '1',
        filename: `p${i}.whl`,
      })),
      skipped: [],
      ansiblePlaybook: '/data/deploy/b-1/venv/bin/ansible-playbook',
      ansibleCore: { expected: '2.14.18', reported: '2.14.18' },
      seconds: 9,
    };
    setState({
      jobs: {
        'venv-1': {
          id: 'venv-1',
          kind: 'venv',
          state: 'done',
          seq: 3,
          progress,
          items: [],
          log: [],
          result,
        } as never,
      },
      latest: { venv: 'venv-1' },
    });
    const html = renderToStaticMarkup(<VenvSection serveJobId="serve-1" wheels={13} />);
    const text = html.replace(/<[^>]+>/g, '');
    expect(text).toContain(
      'Made Python 3.11.2, pip 23.0.1, 13 wheels; ansible-playbook [core 2.14.18] as the bundle carries.',
    );
    expect(text).toContain('/data/deploy/b-1/venv');
    expect(html).toContain('>Check the virtualenv again</button>');
  });
});
