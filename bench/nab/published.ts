/**
 * Published NAB scores on the full NAB corpus (58 series), for comparison only: these are the
 * detectors' authors' or NAB's own figures, NOT re-runs by this project, and they are on the whole
 * corpus, while `bench:nab` runs the subset in ../shared/data/nab.
 */
export interface PublishedNabScore {
  readonly detector: string;
  readonly standard: string;
  readonly lowFp: string;
  readonly lowFn: string;
  readonly source: string;
}

const NAB_README = 'numenta/NAB README.md scoreboard (commit 37b9a8c, NAB v1.0)';

export const PUBLISHED_NAB_SCORES: readonly PublishedNabScore[] = [
  {
    detector: 'Numenta HTM (NuPIC 1.0, seed range)',
    standard: '70.5-69.7',
    lowFp: '62.6-61.7',
    lowFn: '75.2-74.2',
    source: NAB_README,
  },
  {
    detector: 'Numenta HTM (NuPIC 0.5.6)',
    standard: '70.1',
    lowFp: '63.1',
    lowFn: '74.3',
    source: NAB_README,
  },
  { detector: 'CAD OSE', standard: '69.9', lowFp: '67.0', lowFn: '73.2', source: NAB_README },
  { detector: 'KNN CAD', standard: '58.0', lowFp: '43.4', lowFn: '64.8', source: NAB_README },
  { detector: 'Relative Entropy', standard: '54.6', lowFp: '47.6', lowFn: '58.8', source: NAB_README },
  { detector: 'Random Cut Forest (AWS)', standard: '51.7', lowFp: '38.4', lowFn: '59.7', source: NAB_README },
  { detector: 'Twitter ADVec v1.0.0', standard: '47.1', lowFp: '33.6', lowFn: '53.5', source: NAB_README },
  { detector: 'Windowed Gaussian', standard: '39.6', lowFp: '20.9', lowFn: '47.4', source: NAB_README },
  {
    detector: 'ARTime',
    standard: '74.9',
    lowFp: 'n/a',
    lowFn: 'n/a',
    source: '../shared/data/README.md (low-FP/low-FN not found in the sources searched)',
  },
];
