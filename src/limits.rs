//! AWS's limits that berth checks, as data: each with its default, whether
//! an account may have it raised, and where AWS (or the pinned cfn-lint,
//! whose own limits are a test's oracle) says so.
//!
//! `model` checks the load balancer limits on the resolved fleet, and
//! `compiler` the template limits on the rendered stacks. A district may
//! raise the adjustable ones (`quotas:` in `district.yml`) when its account
//! has higher ones. This module only holds the numbers.

use serde::Serialize;

/// One limit of an AWS service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limit {
    /// What is limited, in AWS's words.
    pub what: &'static str,
    /// The default value.
    pub value: u64,
    /// Whether an account may have it raised; then `quota` is the key of
    /// `quotas:` in a district file that raises it.
    pub adjustable: bool,
    pub quota: Option<&'static str>,
    /// The page (or data file) the value comes from.
    pub source: &'static str,
}

const ALB_QUOTAS: &str =
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html";
/// cfn-lint keeps CloudFormation's template limits in `cfnlint/helpers.py`
/// (`LIMITS`); the test command compares these with the pinned cfn-lint's.
const CFN_QUOTAS: &str = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html (cfn-lint `helpers.LIMITS`)";

/// Target groups per Application Load Balancer: each listener of a service
/// has its own target group.
pub const TARGET_GROUPS_PER_ALB: Limit = Limit {
    what: "target groups per Application Load Balancer",
    value: 100,
    adjustable: false,
    quota: None,
    source: ALB_QUOTAS,
};

/// Rules per Application Load Balancer, default rules not counted: the
/// rules of all its listeners (HTTPS, and HTTP for `force_ssl: false`).
pub const RULES_PER_ALB: Limit = Limit {
    what: "rules per Application Load Balancer (default rules not counted)",
    value: 100,
    adjustable: true,
    quota: Some("rules_per_load_balancer"),
    source: ALB_QUOTAS,
};

/// Certificates per Application Load Balancer besides its listeners' default
/// ones: the instances' own (`certificate_arn` of a listener), added by SNI.
pub const CERTIFICATES_PER_ALB: Limit = Limit {
    what: "certificates per Application Load Balancer (default certificates not counted)",
    value: 25,
    adjustable: true,
    quota: Some("certificates_per_load_balancer"),
    source: ALB_QUOTAS,
};

/// Application Load Balancers per region: every load balancer of a
/// district's endpoints (a district is one region of one account).
pub const ALBS_PER_REGION: Limit = Limit {
    what: "Application Load Balancers per region",
    value: 50,
    adjustable: true,
    quota: Some("load_balancers_per_region"),
    source: ALB_QUOTAS,
};

/// Target groups per region, of Application and Network Load Balancers
/// alike: every listener's and every port mapping's of a district.
pub const TARGET_GROUPS_PER_REGION: Limit = Limit {
    what: "target groups per region (Application and Network Load Balancers)",
    value: 3_000,
    adjustable: true,
    quota: Some("target_groups_per_region"),
    source: ALB_QUOTAS,
};

const ECS_QUOTAS: &str =
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html";

/// Target groups one ECS service may register its tasks with: one per
/// listener, and one per port mapping of its network load balancer.
pub const TARGET_GROUPS_PER_SERVICE: Limit = Limit {
    what: "target groups per ECS service",
    value: 5,
    adjustable: false,
    quota: None,
    source: ECS_QUOTAS,
};

/// ECS services in one cluster: every service of every heritage of a district.
pub const SERVICES_PER_CLUSTER: Limit = Limit {
    what: "services per ECS cluster",
    value: 5_000,
    adjustable: true,
    quota: Some("services_per_cluster"),
    source: ECS_QUOTAS,
};

/// Condition values per rule: every host name and path pattern counts.
pub const CONDITION_VALUES_PER_RULE: Limit = Limit {
    what: "condition values per rule",
    value: 5,
    adjustable: false,
    quota: None,
    source: ALB_QUOTAS,
};

/// Wildcards (`*` and `?`) in the condition values of one rule.
pub const CONDITION_WILDCARDS_PER_RULE: Limit = Limit {
    what: "condition wildcards per rule",
    value: 5,
    adjustable: false,
    quota: None,
    source: ALB_QUOTAS,
};

/// Resources declared in one template.
pub const TEMPLATE_RESOURCES: Limit = Limit {
    what: "resources per CloudFormation template",
    value: 500,
    adjustable: false,
    quota: None,
    source: CFN_QUOTAS,
};

/// Outputs declared in one template.
pub const TEMPLATE_OUTPUTS: Limit = Limit {
    what: "outputs per CloudFormation template",
    value: 200,
    adjustable: false,
    quota: None,
    source: CFN_QUOTAS,
};

/// Parameters declared in one template.
pub const TEMPLATE_PARAMETERS: Limit = Limit {
    what: "parameters per CloudFormation template",
    value: 200,
    adjustable: false,
    quota: None,
    source: CFN_QUOTAS,
};

/// Bytes of a template body passed by S3 URL (inline bodies are limited to
/// 51,200 bytes; `apply` hands larger ones over through S3).
pub const TEMPLATE_BYTES: Limit = Limit {
    what: "bytes of a CloudFormation template body",
    value: 1_000_000,
    adjustable: false,
    quota: None,
    source: CFN_QUOTAS,
};

/// Every limit berth checks, in the README's order.
pub const ALL: &[Limit] = &[
    TARGET_GROUPS_PER_ALB,
    RULES_PER_ALB,
    CERTIFICATES_PER_ALB,
    ALBS_PER_REGION,
    TARGET_GROUPS_PER_REGION,
    TARGET_GROUPS_PER_SERVICE,
    SERVICES_PER_CLUSTER,
    CONDITION_VALUES_PER_RULE,
    CONDITION_WILDCARDS_PER_RULE,
    TEMPLATE_RESOURCES,
    TEMPLATE_OUTPUTS,
    TEMPLATE_PARAMETERS,
    TEMPLATE_BYTES,
];

/// How a limit is named in a message: `100 (adjustable)` or `100 (not adjustable)`.
#[must_use]
pub fn allowed(limit: &Limit, value: u64) -> String {
    let value = thousands(value);
    if limit.adjustable {
        format!("{value} (adjustable)")
    } else {
        format!("{value} (not adjustable)")
    }
}

/// `1000000` → `1,000,000`.
#[must_use]
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(5), "5");
        assert_eq!(thousands(51_200), "51,200");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn adjustable_limits_name_their_quota() {
        for limit in ALL {
            assert_eq!(limit.adjustable, limit.quota.is_some(), "{}", limit.what);
        }
    }
}
