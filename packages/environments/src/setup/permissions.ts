/**
 * What each role may do: exactly the AWS calls the actions make with it (checked against the
 * actions' code by tests/setup/permissions.test.ts).
 *
 * - build role (build.yml, build-push-ecr): log in to ECR, find or create the repository (with its
 *   creation tag: ecr:TagResource), keep its settings and repository policy, look images up by tag,
 *   push layers and manifests, add tags to an existing image, remove its run's staging tag.
 * - deploy role (deploy.yml: promote-gate, helm-deploy-eks): find the cluster, read the image and
 *   the repository policy (pull-access check), record evidence tags, read the bake's alarms, sign
 *   with its environment's evidence key, read the public keys of the service's evidence keys.
 * - evidence reader (the rollback starter's plan job): read evidence tags and public keys, and the
 *   image's build provenance (ECR's token for the registry API, the provenance key's public key).
 * Kubernetes permissions come from the EKS access entry, not from IAM.
 */
import { READ_ACTIONS, RECORD_ACTIONS } from '@deploy-actions/aws';

export const BUILD_LOGIN_ACTIONS = ['ecr:GetAuthorizationToken'] as const;

export const BUILD_REPOSITORY_ACTIONS = [
  // repository.ts: find, create (tagged), settings
  'ecr:DescribeRepositories',
  'ecr:CreateRepository',
  'ecr:TagResource',
  'ecr:ListTagsForResource',
  'ecr:GetLifecyclePolicy',
  'ecr:PutLifecyclePolicy',
  'ecr:PutImageScanningConfiguration',
  // pull-policy.ts: the pull / read / record statements for other accounts
  'ecr:GetRepositoryPolicy',
  'ecr:SetRepositoryPolicy',
  // reuse.ts, run.ts: images by tag, manifests, tags added to an existing image
  'ecr:DescribeImages',
  'ecr:BatchGetImage',
  'ecr:PutImage',
  // staging.ts: the run's staging tag, removed once the permanent tags are on the image (no IAM
  // condition narrows it to one tag: docs/build-push-ecr.md, "Order of writes")
  'ecr:BatchDeleteImage',
  // docker push (the registry API) and a pull of a layer that exists
  'ecr:BatchCheckLayerAvailability',
  'ecr:InitiateLayerUpload',
  'ecr:UploadLayerPart',
  'ecr:CompleteLayerUpload',
  'ecr:GetDownloadUrlForLayer',
] as const;

/**
 * promote-gate verify/record/fail and helm-deploy-eks' pull-access check, on the build account's
 * repository; promote-gate's release card also reads the image's scan findings.
 */
export const DEPLOY_REPOSITORY_ACTIONS = [...new Set([...READ_ACTIONS, ...RECORD_ACTIONS, 'ecr:DescribeImageScanFindings'])].sort();

export const DEPLOY_CLUSTER_ACTIONS = ['eks:DescribeCluster'] as const;
/** helm-deploy-eks' bake window (BAKE_ALARMS). */
export const DEPLOY_ALARM_ACTIONS = ['cloudwatch:DescribeAlarms'] as const;
/** promote-gate record/fail with its own environment's key. */
export const SIGN_ACTIONS = ['kms:Sign', 'kms:GetPublicKey'] as const;
/** build-push-ecr: signs the provenance of what it builds, checks the provenance of what it reuses (build provenance key). */
export const PROVENANCE_SIGN_ACTIONS = ['kms:Sign', 'kms:GetPublicKey'] as const;
/** Reading provenance artifacts through the registry API needs ECR's token (promote-gate's provenance check). */
export const REGISTRY_LOGIN_ACTIONS = ['ecr:GetAuthorizationToken'] as const;
/** promote-gate verify, rollback's plan: statements are checked with the public key. */
export const VERIFY_ACTIONS = ['kms:GetPublicKey'] as const;
/** The rollback plan's reads of evidence tags; the release card's image facts and scan findings (deploy.yml's card job). */
export const READER_REPOSITORY_ACTIONS = ['ecr:BatchGetImage', 'ecr:DescribeImageScanFindings', 'ecr:DescribeImages'] as const;

/** Key administration (the KeyAdministratorArn parameter), including what CloudFormation does on update and delete. */
export const KEY_ADMIN_ACTIONS = [
  'kms:Describe*',
  'kms:List*',
  'kms:Get*',
  'kms:PutKeyPolicy',
  'kms:UpdateKeyDescription',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:EnableKey',
  'kms:DisableKey',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
] as const;

/** The EKS access policy of a deploy role, scoped to the service's namespace. */
export const EKS_ACCESS_POLICY = 'AmazonEKSEditPolicy';
