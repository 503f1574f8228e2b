//! The resource level of a diff: what CloudFormation will do with one logical
//! resource of a stack, and how much that can hurt.

use serde::Serialize;

/// What happens to a logical resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Deleted with the stack or the template entry.
    Remove,
    /// Removed from the stack but kept in AWS (`DeletionPolicy` `Retain` or
    /// `RetainExceptOnCreate`). `Snapshot` deletes the resource: a removal.
    Orphan,
    Add,
    /// A new physical resource replaces the old one.
    Replace,
    /// Changed in place.
    Update,
    /// A new revision of an immutable resource (an ECS task definition):
    /// CloudFormation registers a new one, which is how they always change.
    Revision,
}

/// How much a change can hurt, from harmless to destructive: the worst change
/// of a diff is the `max()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Impact {
    /// Something new is created.
    Add,
    /// A new task definition revision: normal on every deploy.
    Revision,
    /// Changed in place.
    Update,
    /// Leaves the stack, kept in AWS.
    Orphan,
    /// Replaced: the old physical resource is deleted.
    Replace,
    /// Deleted.
    Destroy,
    /// A stateful resource (database, cache, bucket, repository, secret, file
    /// system) replaced or deleted: its data is at risk.
    DataLoss,
    /// CloudFormation refuses the change and the stack update fails: a
    /// replacement of a resource with a custom name, or the deletion of a
    /// resource with `DeletionProtection`.
    WillFail,
}

/// Why CloudFormation refuses a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Failure {
    /// A replacement of a resource whose name is fixed in the template: the
    /// new resource cannot take the name the old one still has.
    CustomName { property: String, name: String },
    /// The deletion of a resource with `DeletionProtection: true` (Terraform:
    /// `deletion_protection`).
    DeletionProtection,
    /// Terraform: a plan that destroys a resource whose configuration sets
    /// `lifecycle.prevent_destroy` is an error.
    PreventDestroy,
    /// A new listener rule takes the priority of a rule the same change
    /// removes: CloudFormation creates new resources before it deletes
    /// removed ones, and a listener holds one rule per priority.
    PriorityInUse {
        priority: String,
        /// The removed rule that still holds it.
        held_by: String,
    },
    /// An update or removal of a stack's export that other stacks import.
    ExportInUse {
        export: String,
        /// The importing stacks, by name.
        importers: Vec<String>,
    },
}

/// Whether a property change forces a new physical resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Replacement {
    Never,
    /// The schema lists the property as conditionally create-only: some
    /// changes of it replace the resource.
    Conditional,
    Always,
}

/// One changed value of a resource.
#[derive(Debug, Clone, Serialize)]
pub struct PropertyChange {
    /// Where, e.g. `ContainerDefinitions[0].Command[4]`; properties go without
    /// a `Properties.` prefix, resource attributes (`DeletionPolicy`,
    /// `DependsOn`, `Type`) by their name.
    pub path: String,
    /// The value before (absent when added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<serde_json::Value>,
    /// The value after (absent when removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<serde_json::Value>,
    pub replacement: Replacement,
    /// The text is the same, but it refers to a resource that is replaced (or
    /// a parameter that changes), so its value changes: that name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// One logical resource that changes.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceChange {
    pub logical_id: String,
    /// The resource type (after the change, or before a removal).
    #[serde(rename = "type")]
    pub resource_type: String,
    /// The type before, when it changed (which replaces the resource).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before_type: Option<String>,
    pub action: Action,
    pub impact: Impact,
    /// Holds data that a replacement or deletion loses.
    pub stateful: bool,
    /// The `DeletionPolicy` in force for a removal (CloudFormation's default
    /// when the template sets none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<String>,
    /// The `UpdateReplacePolicy` in force for a replacement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_replace_policy: Option<String>,
    /// The create-only properties whose value changes (`Type` for a type
    /// change): why the resource is replaced.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replace_paths: Vec<String>,
    /// Changed values of an updated or replaced resource.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<PropertyChange>,
    /// The replacement table does not know the type: any change may replace it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unknown_type: bool,
    /// Why CloudFormation refuses this change, when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fails: Option<Failure>,
    /// The update makes CloudFormation generate the resource's value anew
    /// (see [`REGENERATES`]): the old value is lost.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub regenerates: bool,
}

/// Properties whose change makes CloudFormation generate a stateful
/// resource's value anew, an update in place that loses the old value: a
/// secret's `GenerateSecretString` ("Update requires: No interruption", yet
/// a new random value is generated;
/// <https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/2210>).
pub const REGENERATES: &[(&str, &str)] = &[("AWS::SecretsManager::Secret", "GenerateSecretString")];

/// Resource types whose replacement or deletion loses data.
pub const STATEFUL: &[&str] = &[
    "AWS::DynamoDB::Table",
    "AWS::ECR::Repository",
    "AWS::EFS::FileSystem",
    "AWS::ElastiCache::CacheCluster",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::ElastiCache::ServerlessCache",
    "AWS::RDS::DBCluster",
    "AWS::RDS::DBInstance",
    "AWS::S3::Bucket",
    "AWS::SecretsManager::Secret",
];

/// The property that holds a resource's custom name, by type. CloudFormation
/// does not replace a resource whose custom name stays the same ("You can't
/// perform an update that causes a custom-named resource to be replaced. If
/// you must replace the resource, specify a new name.":
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name.html>).
pub const CUSTOM_NAMES: &[(&str, &str)] = &[
    ("AWS::DynamoDB::Table", "TableName"),
    ("AWS::EC2::SecurityGroup", "GroupName"),
    ("AWS::ECR::Repository", "RepositoryName"),
    ("AWS::ECS::Cluster", "ClusterName"),
    ("AWS::ECS::Service", "ServiceName"),
    ("AWS::EFS::FileSystem", "FileSystemName"),
    ("AWS::ElastiCache::CacheCluster", "ClusterName"),
    ("AWS::ElastiCache::ReplicationGroup", "ReplicationGroupId"),
    ("AWS::ElastiCache::SubnetGroup", "CacheSubnetGroupName"),
    ("AWS::ElasticLoadBalancingV2::LoadBalancer", "Name"),
    ("AWS::ElasticLoadBalancingV2::TargetGroup", "Name"),
    ("AWS::IAM::Role", "RoleName"),
    ("AWS::Logs::LogGroup", "LogGroupName"),
    ("AWS::RDS::DBCluster", "DBClusterIdentifier"),
    ("AWS::RDS::DBInstance", "DBInstanceIdentifier"),
    ("AWS::RDS::DBSubnetGroup", "DBSubnetGroupName"),
    ("AWS::S3::Bucket", "BucketName"),
    ("AWS::SecretsManager::Secret", "Name"),
];

/// The property holding a type's custom name, if it has one.
#[must_use]
pub fn name_property(resource_type: &str) -> Option<&'static str> {
    CUSTOM_NAMES
        .iter()
        .find(|(t, _)| *t == resource_type)
        .map(|(_, p)| *p)
}

/// Attributes that every update in place changes, by type: what reads them
/// changes with the resource, as for a replacement. A launch template's
/// update adds a version ("`LatestVersionNumber`: The latest version number of
/// the launch template",
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ec2-launchtemplate.html#aws-resource-ec2-launchtemplate-return-values>;
/// Terraform's `latest_version`, <https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/launch_template#latest_version-1>).
pub const UPDATED_ATTRIBUTES: &[(&str, &str)] = &[
    ("AWS::EC2::LaunchTemplate", "LatestVersionNumber"),
    ("aws_launch_template", "latest_version"),
];

/// Resource types that change by new revision, never in place.
pub const REVISIONED: &[&str] = &["AWS::ECS::TaskDefinition"];

/// Whether resources of a type hold data.
#[must_use]
pub fn is_stateful(resource_type: &str) -> bool {
    STATEFUL.contains(&resource_type)
}

impl Action {
    /// The marker printed before a resource: `[+]`, `[-]`, `[~]`, `[±]`, `[o]`.
    #[must_use]
    pub fn marker(self) -> &'static str {
        match self {
            Self::Add => "[+]",
            Self::Remove => "[-]",
            Self::Orphan => "[o]",
            Self::Update | Self::Revision => "[~]",
            Self::Replace => "[±]",
        }
    }

    /// Printing order: removed, orphaned, added, replaced, then updated.
    #[must_use]
    pub fn rank(self) -> u8 {
        match self {
            Self::Remove => 0,
            Self::Orphan => 1,
            Self::Add => 2,
            Self::Replace => 3,
            Self::Update | Self::Revision => 4,
        }
    }

    /// How much this action hurts a resource of the given kind.
    #[must_use]
    pub fn impact(self, stateful: bool) -> Impact {
        match self {
            Self::Add => Impact::Add,
            Self::Revision => Impact::Revision,
            Self::Update => Impact::Update,
            Self::Orphan => Impact::Orphan,
            Self::Replace | Self::Remove if stateful => Impact::DataLoss,
            Self::Replace => Impact::Replace,
            Self::Remove => Impact::Destroy,
        }
    }

    /// Whether this change regenerates a generated value: an update of a
    /// property (or below it) that `table` names for `resource_type`.
    #[must_use]
    pub fn regenerates(
        self,
        resource_type: &str,
        properties: &[PropertyChange],
        table: &[(&str, &str)],
    ) -> bool {
        self == Self::Update
            && properties.iter().any(|p| {
                table.iter().any(|(kind, property)| {
                    *kind == resource_type
                        && (p.path == *property || p.path.starts_with(&format!("{property}.")))
                })
            })
    }

    /// The impact of this action on a resource, in both targets: a change
    /// the deployer refuses (`will_fail`) first; then a stateful resource
    /// an update may replace (berth does not know the condition does not
    /// hold) or whose generated value it regenerates risks its data; else
    /// [`Action::impact`].
    #[must_use]
    pub fn impact_of(
        self,
        stateful: bool,
        will_fail: bool,
        regenerates: bool,
        properties: &[PropertyChange],
    ) -> Impact {
        let maybe_replaced = self == Self::Update
            && properties
                .iter()
                .any(|p| p.replacement == Replacement::Conditional);
        if will_fail {
            Impact::WillFail
        } else if stateful && (maybe_replaced || regenerates) {
            Impact::DataLoss
        } else {
            self.impact(stateful)
        }
    }

    /// A word for people: `added`, `replaced`, `new revision`…
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Add => "added",
            Self::Remove => "destroyed",
            Self::Orphan => "orphaned",
            Self::Update => "updated",
            Self::Replace => "replaced",
            Self::Revision => "new revision",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_impact_is_the_max() {
        let impacts = [Impact::Update, Impact::DataLoss, Impact::Revision];
        assert_eq!(impacts.iter().max(), Some(&Impact::DataLoss));
        assert!(Impact::Revision < Impact::Update);
        assert!(Impact::Orphan < Impact::Replace);
        assert!(Impact::Replace < Impact::Destroy);
        assert!(Impact::DataLoss < Impact::WillFail);
    }

    #[test]
    fn stateful_replacement_and_removal_lose_data() {
        assert_eq!(Action::Replace.impact(true), Impact::DataLoss);
        assert_eq!(Action::Remove.impact(true), Impact::DataLoss);
        assert_eq!(Action::Orphan.impact(true), Impact::Orphan);
        assert_eq!(Action::Update.impact(true), Impact::Update);
        assert_eq!(Action::Replace.impact(false), Impact::Replace);
        assert_eq!(Action::Remove.impact(false), Impact::Destroy);
    }
}
