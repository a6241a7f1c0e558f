/**
 * The tutorial's six keypoint specialists (DESIGN.md): each predicts one
 * group of Kaggle-15 keypoints with its own net, trained from a general net's
 * weights. Flip pairs are not listed here: each group's are the schema's
 * pairs whose both keypoints are in the group (see `flipPairsFor`).
 */
import { kaggle15 } from '../data/schemas.js';

export interface SpecialistGroup {
  /** Folder-friendly name. */
  name: string;
  keypoints: string[];
}

/** The groups in the tutorial's order. */
export const SPECIALIST_GROUPS: readonly SpecialistGroup[] = [
  { name: 'eye-centers', keypoints: ['left_eye_center', 'right_eye_center'] },
  { name: 'nose-tip', keypoints: ['nose_tip'] },
  { name: 'mouth', keypoints: ['mouth_left_corner', 'mouth_right_corner', 'mouth_center_top_lip'] },
  { name: 'bottom-lip', keypoints: ['mouth_center_bottom_lip'] },
  {
    name: 'eye-corners',
    keypoints: [
      'left_eye_inner_corner',
      'left_eye_outer_corner',
      'right_eye_inner_corner',
      'right_eye_outer_corner',
    ],
  },
  {
    name: 'eyebrows',
    keypoints: [
      'left_eyebrow_inner_end',
      'left_eyebrow_outer_end',
      'right_eyebrow_inner_end',
      'right_eyebrow_outer_end',
    ],
  },
];

/** A group's target columns (x then y of each keypoint). */
export function groupColumns(group: SpecialistGroup): string[] {
  return group.keypoints.flatMap((k) => [`${k}_x`, `${k}_y`]);
}

/** The tutorial's epoch budget: about 4 million samples seen, so small groups train longer. */
export function specialistEpochs(rows: number): number {
  return Math.max(1, Math.round(4e6 / rows));
}

/** The schema the groups are defined on. */
export const SPECIALIST_SCHEMA = kaggle15;
