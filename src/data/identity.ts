/**
 * Face identities from file names. Frames of one person are near-duplicates,
 * so a validation set that shares identities with the training set reports
 * optimistic numbers: datasets carry each row's identity as its group, and
 * the training split (`TrainSplit` in src/train/train-split.ts) keeps every
 * group on one side.
 */

/**
 * The identity of a face image from its file name: the name without its
 * folder and without the trailing `_NN.<ext>` (clip and frame digits), as in
 * the YouTube Faces / Udacity names `<Person_Name>_<clip><frame>.jpg`.
 * Names without that ending are their own identity (minus the extension).
 *
 * @example
 * identityOf('Abdel_Aziz_Al-Hakim_01.jpg'); // 'Abdel_Aziz_Al-Hakim'
 */
export function identityOf(fileName: string): string {
  const base = fileName.replace(/^.*[\\/]/, '');
  const withoutFrame = base.replace(/_\d+\.[A-Za-z0-9]+$/, '');
  if (withoutFrame !== base) return withoutFrame;
  return base.replace(/\.[A-Za-z0-9]+$/, '');
}
