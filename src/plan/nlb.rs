//! The network load balancer of a service with `port_mappings`.
//!
//! Barcelona put a Classic ELB in front of such a service; berth gives it a
//! network load balancer of its own: one TCP or UDP listener and target group
//! per mapping, a security group for the load balancer, and a rule letting
//! that group reach the district's container security group. Every name is
//! derived from the district, service and port here; the partials
//! `nlb.cfn.json` and `nlb.tf.json` only write them down.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{logical_id, terraform_name};
use crate::model::{District, Service, Transport};
use crate::schema::LaunchType;

/// The host ports ECS picks from for a container port with `hostPort: 0` in
/// bridge mode (the ECS agent's default ephemeral range).
pub const DYNAMIC_HOST_PORTS: (u16, u16) = (32768, 65535);

/// The load balancer of one service.
#[derive(Debug, Clone, Serialize)]
pub struct NlbPlan {
    /// Logical id of the load balancer, e.g. `WebNlb`; its security group is
    /// `WebNlbSecurityGroup`.
    pub id: String,
    /// Terraform name of the load balancer (`aws_lb.web`) and, with `_nlb`,
    /// of its security group (`aws_security_group.web_nlb`).
    pub tf: String,
    /// `internet-facing` or `internal`.
    pub scheme: &'static str,
    pub public: bool,
    /// The district export, and the Terraform variable (a district output),
    /// of the subnets the load balancer is in.
    pub subnets_export: String,
    pub subnets_variable: &'static str,
    /// Where clients may connect from: anywhere, or the district's VPC.
    pub ingress_cidr: String,
    pub ingress_description: &'static str,
    /// The security group's description and `Name` tag.
    pub description: String,
    pub group_name: String,
    pub ports: Vec<NlbPortPlan>,
    /// What the load balancer may reach in the container security group.
    pub container_ingress: Vec<IngressPlan>,
    /// The stack output and Terraform output of its DNS name.
    pub output: String,
    pub tf_output: String,
}

/// One mapping: a listener and its target group.
#[derive(Debug, Clone, Serialize)]
pub struct NlbPortPlan {
    /// Logical id prefix, e.g. `WebPort5432Tcp` (`…TargetGroup`, `…Listener`,
    /// `…Ingress`).
    pub id: String,
    /// Terraform name, e.g. `web_port_5432_tcp`.
    pub tf: String,
    pub lb_port: u16,
    pub container_port: u16,
    /// `TCP` or `UDP`, the load balancer's spelling.
    pub protocol: &'static str,
    /// `tcp` or `udp`, the security group's and the container's spelling.
    pub ip_protocol: &'static str,
    pub proxy_protocol: bool,
    /// `traffic-port`, or the port number as text.
    pub health_check_port: String,
    /// `instance` on EC2, `ip` on Fargate.
    pub target_type: &'static str,
}

/// A rule of the container security group that lets the load balancer in.
#[derive(Debug, Clone, Serialize)]
pub struct IngressPlan {
    pub id: String,
    pub tf: String,
    pub ip_protocol: &'static str,
    pub from_port: u16,
    pub to_port: u16,
    pub description: String,
}

/// One port mapping of a container definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortMappingPlan {
    pub container_port: u16,
    /// `0` (a dynamic host port) on EC2, the container port on Fargate.
    pub host_port: u16,
    pub protocol: &'static str,
}

fn spelled(transport: Transport) -> (&'static str, &'static str) {
    match transport {
        Transport::Tcp => ("TCP", "tcp"),
        Transport::Udp => ("UDP", "udp"),
    }
}

/// The container's port mappings: the web port, then each mapping's container
/// port (once per port and protocol).
#[must_use]
pub fn container_ports(service: &Service) -> Vec<PortMappingPlan> {
    let fargate = service.launch_type == LaunchType::Fargate;
    let port = |container_port: u16, protocol| PortMappingPlan {
        container_port,
        host_port: if fargate { container_port } else { 0 },
        protocol,
    };
    let mut ports: Vec<PortMappingPlan> =
        service.port.map(|p| port(p, "tcp")).into_iter().collect();
    for mapping in service.nlb.iter().flat_map(|n| &n.mappings) {
        let next = port(mapping.container_port, spelled(mapping.transport).1);
        if !ports.contains(&next) {
            ports.push(next);
        }
    }
    ports
}

/// The load balancer of a service with `port_mappings`.
#[must_use]
pub fn nlb_plan(district: &District, heritage: &str, service: &Service) -> Option<NlbPlan> {
    let nlb = service.nlb.as_ref()?;
    let fargate = service.launch_type == LaunchType::Fargate;
    let id = logical_id(&service.name);
    let tf = terraform_name(&service.name);
    let ports: Vec<NlbPortPlan> = nlb
        .mappings
        .iter()
        .map(|m| {
            let (protocol, ip_protocol) = spelled(m.transport);
            // On EC2 a task's host ports are dynamic, so a target group can
            // only check its own port; on Fargate every port is the task's.
            let health_check_port = if m.container_port == nlb.health_check_port || !fargate {
                "traffic-port".to_owned()
            } else {
                nlb.health_check_port.to_string()
            };
            NlbPortPlan {
                id: format!("{id}Port{}{}", m.lb_port, logical_id(ip_protocol)),
                tf: format!("{tf}_port_{}_{ip_protocol}", m.lb_port),
                lb_port: m.lb_port,
                container_port: m.container_port,
                protocol,
                ip_protocol,
                proxy_protocol: m.proxy_protocol,
                health_check_port,
                target_type: if fargate { "ip" } else { "instance" },
            }
        })
        .collect();
    let container_ingress = if fargate {
        // Traffic on each container port, and health checks (always TCP).
        let mut pairs = BTreeSet::new();
        for p in &ports {
            pairs.insert((p.ip_protocol, p.container_port));
            let checked = p.health_check_port.parse().unwrap_or(p.container_port);
            pairs.insert(("tcp", checked));
        }
        pairs
            .into_iter()
            .map(|(ip_protocol, port)| IngressPlan {
                id: format!("{id}NlbIngress{}{port}", logical_id(ip_protocol)),
                tf: format!("{tf}_nlb_{ip_protocol}_{port}"),
                ip_protocol,
                from_port: port,
                to_port: port,
                description: format!(
                    "{} {port} from the network load balancer of {}",
                    ip_protocol.to_ascii_uppercase(),
                    service.name
                ),
            })
            .collect()
    } else {
        vec![IngressPlan {
            id: format!("{id}NlbIngress"),
            tf: format!("{tf}_nlb"),
            ip_protocol: "tcp",
            from_port: DYNAMIC_HOST_PORTS.0,
            to_port: DYNAMIC_HOST_PORTS.1,
            description: format!(
                "TCP from the network load balancer of {} (dynamic host ports)",
                service.name
            ),
        }]
    };
    let (subnets, subnets_variable) = if nlb.public {
        ("PublicSubnets", "public_subnet_ids")
    } else {
        ("PrivateSubnets", "private_subnet_ids")
    };
    Some(NlbPlan {
        id: format!("{id}Nlb"),
        scheme: if nlb.public {
            "internet-facing"
        } else {
            "internal"
        },
        public: nlb.public,
        subnets_export: format!("{}-{subnets}", district.name),
        subnets_variable,
        ingress_cidr: if nlb.public {
            "0.0.0.0/0".to_owned()
        } else {
            district.network.cidr.clone()
        },
        ingress_description: if nlb.public {
            "from anywhere"
        } else {
            "from the VPC"
        },
        description: format!(
            "Network load balancer of the berth service {heritage}-{}",
            service.name
        ),
        group_name: format!("{heritage}-{}-nlb", service.name),
        ports,
        container_ingress,
        output: format!("{id}NlbDnsName"),
        tf_output: format!("nlb_dns_name_{}", tf.trim_start_matches('_')),
        tf,
    })
}

/// One target group an ECS service registers its tasks with, and what must
/// exist before (ECS refuses a target group no load balancer forwards to).
#[derive(Debug, Clone, Serialize)]
pub struct TargetPlan {
    pub container_port: Option<u16>,
    /// Logical ids of the target group and of the rule or listener forwarding to it.
    pub target_group: String,
    pub depends_on: Vec<String>,
    /// The same as Terraform addresses.
    pub tf_target_group: String,
    pub tf_depends_on: Vec<String>,
}

/// The target groups of a service: its listener rules', then its network
/// load balancer's.
#[must_use]
pub fn targets(
    port: Option<u16>,
    listeners: &[super::ListenerPlan<'_>],
    nlb: Option<&NlbPlan>,
) -> Vec<TargetPlan> {
    let rules = listeners.iter().map(|l| TargetPlan {
        container_port: port,
        target_group: format!("{}TargetGroup", l.id),
        depends_on: l.routes.iter().map(|r| r.id.clone()).collect(),
        tf_target_group: format!("aws_lb_target_group.{}", l.tf),
        tf_depends_on: l
            .routes
            .iter()
            .map(|r| format!("aws_lb_listener_rule.{}", r.tf))
            .collect(),
    });
    let ports = nlb.into_iter().flat_map(|n| &n.ports).map(|p| TargetPlan {
        container_port: Some(p.container_port),
        target_group: format!("{}TargetGroup", p.id),
        depends_on: vec![format!("{}Listener", p.id)],
        tf_target_group: format!("aws_lb_target_group.{}", p.tf),
        tf_depends_on: vec![format!("aws_lb_listener.{}", p.tf)],
    });
    rules.chain(ports).collect()
}
