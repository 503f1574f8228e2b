//! berth's rules for one file, beyond what the schema can say.
//!
//! Each rule reads the typed file and reports located diagnostics. Rules that
//! need more than one file live in [`super::fleet`].

use crate::diagnostic::{Diagnostic, Span};
use crate::limits;
use crate::schema::{
    Command, ConditionType, DistrictFile, EnvironmentVars, InstanceFile, LaunchType, PlainValue,
    PortProtocol, Service, ServiceType,
};

use super::{Checked, off_hours, schedule};
use crate::model::DEFAULT_MEMORY;

/// A JSON pointer from keys, escaped.
#[must_use]
pub fn pointer(segments: &[&str]) -> String {
    segments.iter().fold(String::new(), |mut p, s| {
        p.push('/');
        if s.contains(['~', '/']) {
            p.push_str(&s.replace('~', "~0").replace('/', "~1"));
        } else {
            p.push_str(s);
        }
        p
    })
}

/// Variable names that look like they hold a secret: `*PASSWORD*`,
/// `*PASSWD*`, `*_PASS`, `*SECRET*`, `*TOKEN*`, `*CREDENTIALS*`, `*_KEY`.
/// A name with a `PUBLIC` word (`VAPID_PUBLIC_KEY`, `S3_PUBLIC_HOST`) names a
/// value meant to be shared and is never one.
#[must_use]
pub fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    if upper.split('_').any(|word| word == "PUBLIC") {
        return false;
    }
    ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "CREDENTIALS"]
        .iter()
        .any(|w| upper.contains(w))
        || upper.ends_with("_KEY")
        || upper.ends_with("_PASS")
        || upper == "PASS"
}

/// Whether a value is a URL with a password in its userinfo
/// (`postgres://user:pw@host/db`, `redis://:pw@host`): a secret whatever the
/// variable is called.
#[must_use]
pub fn url_has_password(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once("://") else {
        return false;
    };
    let is_scheme = !scheme.is_empty()
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    is_scheme
        && authority
            .rsplit_once('@')
            .and_then(|(userinfo, _host)| userinfo.split_once(':'))
            .is_some_and(|(_user, password)| !password.is_empty())
}

/// A credential written into a string berth copies into artifacts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// Where the secret part sits in the string.
    pub range: std::ops::Range<usize>,
    /// What it is, for the message (`` `PGPASSWORD=…` ``).
    pub what: String,
}

/// Finds a credential in a command line, argument, image name or value:
/// an assignment or flag of a secret-looking name (`PGPASSWORD=x`,
/// `--password x`, `--db-password=x`; names as [`looks_secret`] reads them,
/// values other than a `$VARIABLE` reference), a URL with a password, a PEM
/// private key block, or an AWS access key id (`AKIA…`/`ASIA…` and 16
/// uppercase letters or digits, the shape of IAM's key ids).
#[must_use]
pub fn find_credential(text: &str) -> Option<Credential> {
    let words: Vec<(usize, &str)> = text
        .split_whitespace()
        .map(|w| (w.as_ptr() as usize - text.as_ptr() as usize, w))
        .collect();
    let secret_name = |name: &str| {
        let name = name.trim_start_matches('-').replace('-', "_");
        let upper = name.to_ascii_uppercase();
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && looks_secret(&name)
            && !["_FILE", "_PATH", "_ARN", "_NAME"]
                .iter()
                .any(|s| upper.ends_with(s))
    };
    let literal = |value: &str| {
        let value = value.trim_matches(['"', '\'']);
        !value.is_empty() && !value.starts_with('$')
    };
    for (i, &(at, word)) in words.iter().enumerate() {
        let bare = word.trim_start_matches(['"', '\'']);
        let quote = word.len() - bare.len();
        if let Some((name, value)) = bare.split_once('=')
            && secret_name(name)
            && literal(value)
        {
            let start = at + quote + name.len() + 1;
            return Some(Credential {
                range: start..at + word.len(),
                what: format!("`{name}=…`"),
            });
        }
        if bare.starts_with("--")
            && !bare.contains('=')
            && secret_name(bare)
            && let Some(&(next_at, next)) = words.get(i + 1)
            && !next.starts_with('-')
            && literal(next)
        {
            return Some(Credential {
                range: next_at..next_at + next.len(),
                what: format!("`{bare} …`"),
            });
        }
        if url_has_password(bare)
            && let Some(authority_at) = bare.find("://")
        {
            let rest = &bare[authority_at + 3..];
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            if let Some((userinfo, _)) = authority.rsplit_once('@')
                && let Some((user, password)) = userinfo.split_once(':')
            {
                let start = at + quote + authority_at + 3 + user.len() + 1;
                return Some(Credential {
                    range: start..start + password.len(),
                    what: "a URL with a password".to_owned(),
                });
            }
        }
    }
    if let Some(begin) = text.find("-----BEGIN ")
        && text[begin..].contains("PRIVATE KEY-----")
    {
        let end = text[begin..].find('\n').map_or(text.len(), |e| begin + e);
        return Some(Credential {
            range: begin..end,
            what: "a PEM private key".to_owned(),
        });
    }
    access_key_id(text).map(|range| Credential {
        range,
        what: "an AWS access key id".to_owned(),
    })
}

/// Where an AWS access key id (`AKIA` or `ASIA` and 16 uppercase letters or
/// digits, as IAM's `AccessKeyId` is shaped) sits in `text`, as a word.
fn access_key_id(text: &str) -> Option<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let key = |b: &u8| b.is_ascii_uppercase() || b.is_ascii_digit();
    (0..bytes.len().saturating_sub(19)).find_map(|i| {
        let candidate = &bytes[i..i + 20];
        let prefix = &candidate[..4] == b"AKIA" || &candidate[..4] == b"ASIA";
        let before = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let after = bytes.get(i + 20).is_none_or(|b| !b.is_ascii_alphanumeric());
        (prefix && before && after && candidate.iter().all(key)).then(|| i..i + 20)
    })
}

/// Where the password of an image name's userinfo (`user:pw@registry/app`)
/// sits: registries take credentials from `docker login`, never the name.
#[must_use]
pub fn image_password(image: &str) -> Option<std::ops::Range<usize>> {
    let (userinfo, _) = image.split_once('@')?;
    let (user, password) = userinfo.split_once(':')?;
    (!userinfo.contains('/') && !password.is_empty()).then(|| user.len() + 1..userinfo.len())
}

/// The error for a credential found in a string berth writes into artifacts.
fn credential_error(where_: &str, credential: &Credential, span: Span) -> Diagnostic {
    Diagnostic::error(
        "secret-literal",
        format!("{where_} holds {}, a secret in plain text", credential.what),
    )
    .at(span, "this would be written into artifacts in plain text")
    .help(
        "keep secrets out of commands, names and values: give the process the secret as an environment variable with `value_from: <parameter or secret ARN>` or `ssm_path: <path>` (or `resources.secrets`), and refer to it as `$NAME` in a command",
    )
}

/// The span of a scalar's text without its quotes, and the byte offset of a
/// range inside the text, for carets inside a value.
fn inside(file_text: &str, span: &Span, range: std::ops::Range<usize>) -> Span {
    let text = file_text.get(span.range.clone()).unwrap_or_default();
    let quote = usize::from(text.starts_with(['"', '\'']));
    let start = span.range.start + quote;
    Span::new(
        span.file,
        start + range.start..start + range.end.max(range.start + 1),
    )
}

/// The times of a `schedule` (a heritage's, or a district's hosts' under
/// `key`): how the two cron expressions and the time zone are read.
struct Times<'a> {
    /// Where it is written, for messages: `schedule` or `cluster.schedule`.
    key: &'a str,
    off: &'a str,
    on: &'a str,
    timezone: Option<&'a str>,
    /// The steps of a heritage's schedule run minutes after `off` and `on`,
    /// on the same day; a host schedule has no later steps.
    staggered: bool,
    has_database: bool,
}

/// A `schedule`: two valid times of day, not the same, in an IANA time zone;
/// and a warning when the database may stay stopped for more than the seven
/// days after which RDS starts it again by itself.
fn check_off_hours(
    times: &Times<'_>,
    at: &dyn Fn(&str) -> Span,
    text: &str,
    out: &mut Vec<Diagnostic>,
) {
    let key = times.key;
    let mut read = Vec::new();
    for (field, expression) in [("off", times.off), ("on", times.on)] {
        let span = at(field);
        match off_hours::time_of_day(expression) {
            Ok(t) => read.push(t),
            Err(e) => {
                let mut d = Diagnostic::error(
                    "invalid-schedule",
                    format!("invalid `{key}.{field}`: {}", e.message),
                )
                .at(inside(text, &span, e.range), "here");
                if let Some(help) = e.help {
                    d = d.help(help);
                }
                out.push(d);
            }
        }
    }
    if let [off, on] = &read[..] {
        for (field, time, delay) in [
            ("off", off, off_hours::OFF_DATABASE_DELAY),
            ("on", on, off_hours::ON_RULES_DELAY),
        ] {
            if times.staggered && time.later(delay).is_none() {
                out.push(
                    Diagnostic::error(
                        "schedule-past-midnight",
                        format!("the last step of `{key}.{field}` runs {delay} minutes after it, on the next day"),
                    )
                    .at(at(field), "too close to midnight")
                    .help(format!("berth staggers the steps over {delay} minutes on the same day: choose a time before {:02}:{:02}", (24 * 60 - delay) / 60, (24 * 60 - delay) % 60)),
                );
            }
        }
        if off == on {
            out.push(
                Diagnostic::error(
                    "off-is-on",
                    format!("`{key}.on` fires at the same times as `{key}.off`"),
                )
                .at(at("on"), "switches on when it switches off")
                .help("give `on` another time of day, or other days, than `off`"),
            );
        }
        let rare = on.days.split(' ').enumerate().any(|(i, field)| match i {
            0 => !matches!(field, "*" | "?"),
            1 | 3 => field != "*",
            _ => false,
        });
        if times.has_database && rare {
            out.push(
                Diagnostic::warning(
                    "database-restarted",
                    "the database can stay stopped for more than seven days, and RDS starts a stopped database again after seven days",
                )
                .at(at("on"), "fires less often than once a week")
                .help("switch on at least once a week (restrict only the day of week, e.g. `cron(0 7 ? * MON *)`), or the database runs again, unscheduled, from its eighth day off"),
            );
        }
    }
    if let Some(zone) = times.timezone
        && let Err(guess) = off_hours::time_zone(zone)
    {
        out.push(
            Diagnostic::error(
                "unknown-time-zone",
                format!("`{zone}` is not a time zone of the IANA database"),
            )
            .at(at("timezone"), "not a time zone")
            .help(guess.map_or_else(
                || "write an IANA name such as `Asia/Tokyo`, `Europe/Berlin` or `UTC`".to_owned(),
                |g| format!("did you mean `{g}`?"),
            )),
        );
    }
}

/// Rules for one instance file.
#[must_use]
pub fn check_instance(file: &Checked<InstanceFile>, text: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    check_resources(file, &[], file.spec.resources.as_ref(), &mut out);
    for (env_key, env) in &file.spec.environments {
        let base = ["environments", env_key.as_str()];
        let at = |rest: &[&str]| file.at(&pointer(&[&base[..], rest].concat()));

        match env.image_tag.as_deref() {
            None => out.push(
                Diagnostic::note("latest-tag", format!("`{}` has no `image_tag`, so it deploys `latest`", env.name))
                    .at(at(&["image_name"]), "deployed as `:latest`")
                    .help("set `image_tag` to a version or commit: `latest` changes without a change to review"),
            ),
            Some("latest") => out.push(
                Diagnostic::note("latest-tag", "`image_tag: latest` makes deploys unreviewable")
                    .at(at(&["image_tag"]), "moves without a change to review")
                    .help("set `image_tag` to a version or commit"),
            ),
            Some(_) => {}
        }

        if let Some(command) = &env.before_deploy {
            check_command(command, || at(&["before_deploy"]), text, &mut out);
        }

        for (i, task) in env.scheduled_tasks.iter().enumerate() {
            let i = i.to_string();
            if let Err(e) = schedule::check(&task.schedule) {
                let span = at(&["scheduled_tasks", &i, "schedule"]);
                let mut d = Diagnostic::error(
                    "invalid-schedule",
                    format!("invalid schedule: {}", e.message),
                )
                .at(inside(text, &span, e.range), "here");
                if let Some(help) = e.help {
                    d = d.help(help);
                }
                out.push(d);
            }
            check_command(
                &task.command,
                || at(&["scheduled_tasks", &i, "command"]),
                text,
                &mut out,
            );
        }

        if let Some(hours) = &env.schedule {
            let has_database = env
                .resources
                .as_ref()
                .or(file.spec.resources.as_ref())
                .is_some_and(|r| r.database.is_some());
            let times = Times {
                key: "schedule",
                off: &hours.off,
                on: &hours.on,
                timezone: hours.timezone.as_deref(),
                staggered: true,
                has_database,
            };
            check_off_hours(&times, &|field| at(&["schedule", field]), text, &mut out);
            if env.services.is_empty() {
                out.push(
                    Diagnostic::error(
                        "schedule-without-services",
                        format!(
                            "`{}` has `schedule` but no services to switch off",
                            env.name
                        ),
                    )
                    .at(at(&["schedule"]), "nothing to switch off")
                    .help("add the services this schedule switches off, or remove `schedule`"),
                );
            }
            for (i, service) in env.services.iter().enumerate() {
                if service.autoscaling.is_some() {
                    out.push(
                        Diagnostic::error("schedule-autoscaling", format!("`schedule` cannot switch off `{}`, which autoscales", service.name))
                            .at(at(&["services", &i.to_string(), "autoscaling"]), "its scalable target would start tasks again")
                            .help("remove `autoscaling` from this service or `schedule` from the environment: berth sets the desired count of services without autoscaling to 0"),
                    );
                }
            }
        }

        if let crate::schema::ImageName::Name(image) = &env.image_name {
            let span = || at(&["image_name"]);
            if let Some(range) = image_password(image) {
                out.push(
                    Diagnostic::error(
                        "secret-literal",
                        "the image name holds a registry password",
                    )
                    .at(inside(text, &span(), range), "this would be written into artifacts in plain text")
                    .help("remove `user:password@` from `image_name`: ECS pulls from ECR with the execution role; for another private registry, store the credentials in Secrets Manager (ECS's `repositoryCredentials`)"),
                );
            } else if let Some(found) = find_credential(image) {
                let at = inside(text, &span(), found.range.clone());
                out.push(credential_error("the image name", &found, at));
            }
        }
        if let crate::schema::ImageName::Repository(image) = &env.image_name {
            let declared: Vec<&String> = env
                .resources
                .as_ref()
                .or(file.spec.resources.as_ref())
                .map(|r| r.repositories.keys().collect())
                .unwrap_or_default();
            if !declared.contains(&&image.repository) {
                let list = if declared.is_empty() {
                    "it declares none: add one under `resources.repositories`".to_owned()
                } else {
                    let guess = super::schema::suggest(
                        &image.repository,
                        declared.iter().map(|r| r.as_str()),
                    )
                    .map(|g| format!("did you mean `{g}`? "))
                    .unwrap_or_default();
                    format!(
                        "{guess}declared: {}",
                        declared
                            .iter()
                            .map(|r| format!("`{r}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                out.push(
                    Diagnostic::error(
                        "unknown-repository",
                        format!("`{}` has no repository `{}`", env.name, image.repository),
                    )
                    .at(
                        at(&["image_name", "repository"]),
                        "not a repository of this heritage",
                    )
                    .help(list),
                );
            }
        }
        let injected = match &env.resources {
            Some(own) => injected_secrets(file, &base, Some(own)),
            None => injected_secrets(file, &[], file.spec.resources.as_ref()),
        };
        check_environment(file, &base, env.environment.as_ref(), &injected, &mut out);
        check_resources(file, &base, env.resources.as_ref(), &mut out);

        for (i, service) in env.services.iter().enumerate() {
            let i = i.to_string();
            let sat = |rest: &[&str]| at(&[&["services", i.as_str()][..], rest].concat());
            if service.name == "before-deploy" || service.name.starts_with("schedule-") {
                out.push(
                    Diagnostic::error("reserved-name", format!("service name `{}` is reserved for one-off tasks", service.name))
                        .at(sat(&["name"]), "taken by berth's task definitions")
                        .help("`before-deploy` and `schedule-*` name the one-off and scheduled tasks' definitions: rename the service"),
                );
            }
            if let Some(first) = env.services.iter().position(|s| s.name == service.name)
                && first.to_string() != i
            {
                out.push(
                    Diagnostic::error(
                        "duplicate-name",
                        format!(
                            "two services are named `{}` in `{}`",
                            service.name, env.name
                        ),
                    )
                    .at(sat(&["name"]), "second service with this name")
                    .also(at(&["services", &first.to_string(), "name"]), "first one")
                    .help("service names must be unique in a heritage: rename one"),
                );
            }
            if let Some(command) = &service.command {
                check_command(command, || sat(&["command"]), text, &mut out);
            }
            check_environment(
                file,
                &[&base[..], &["services", i.as_str()]].concat(),
                service.environment.as_ref(),
                &injected,
                &mut out,
            );
            // One Auto Scaling group holds every host, spot and on-demand
            // alike (`spot_share`), behind one capacity provider: ECS places
            // a task on a capacity provider, never on a kind of host in it.
            if service.launch_type == Some(LaunchType::Fargate) {
                let memory = service.memory.unwrap_or(DEFAULT_MEMORY);
                let result = match service.cpu {
                    Some(cpu) => fargate_pair(cpu, memory, sat(&["cpu"]), sat(&["memory"])),
                    None => Err(Diagnostic::error(
                        "fargate-size",
                        format!("`{}` runs on Fargate but has no `cpu`", service.name),
                    )
                    .at(sat(&["launch_type"]), "Fargate needs a task size")
                    .help("set `cpu` to 256, 512, 1024, 2048, 4096, 8192 or 16384")),
                };
                if let Err(diagnostic) = result {
                    out.push(diagnostic);
                }
            }
            if let Some(scaling) = &service.autoscaling {
                if scaling.min > scaling.max {
                    out.push(
                        Diagnostic::error(
                            "autoscaling-range",
                            format!(
                                "autoscaling `min` ({}) is above `max` ({})",
                                scaling.min, scaling.max
                            ),
                        )
                        .at(sat(&["autoscaling", "min"]), "above `max`")
                        .help("lower `min` or raise `max`"),
                    );
                }
                if service.desired_count.is_some() {
                    out.push(
                        Diagnostic::warning(
                            "desired-count-with-autoscaling",
                            format!(
                                "`desired_count` of `{}` is ignored: autoscaling sets the count",
                                service.name
                            ),
                        )
                        .at(sat(&["desired_count"]), "ignored")
                        .help("remove `desired_count`; deploys keep the count autoscaling has set"),
                    );
                }
            }
            let web = service.service_type == Some(ServiceType::Web);
            if !web && !service.listeners.is_empty() {
                out.push(
                    Diagnostic::error(
                        "listener-without-web",
                        format!(
                            "service `{}` has listeners but is not a web service",
                            service.name
                        ),
                    )
                    .at(sat(&["listeners"]), "listeners need `service_type: web`")
                    .help("add `service_type: web` to the service, or remove its listeners"),
                );
            }
            if !web && service.web_container_port.is_some() {
                out.push(
                    Diagnostic::warning("port-without-web", format!("`web_container_port` has no effect on `{}`, which is not a web service", service.name))
                        .at(sat(&["web_container_port"]), "ignored")
                        .help("add `service_type: web`, or remove `web_container_port`"),
                );
            }
            check_port_mappings(service, &sat, &mut out);
            let groups = (service.port_mappings.len() + service.listeners.len()) as u64;
            let limit = limits::TARGET_GROUPS_PER_SERVICE.value;
            if groups > limit {
                let key = if service.port_mappings.is_empty() {
                    "listeners"
                } else {
                    "port_mappings"
                };
                out.push(
                    Diagnostic::error("too-many-target-groups", format!(
                        "`{}` needs {groups} target groups, one per port mapping and per listener; an ECS service takes {}",
                        service.name,
                        limits::allowed(&limits::TARGET_GROUPS_PER_SERVICE, limit)
                    ))
                    .at(sat(&[key]), "one target group per mapping and per listener")
                    .help("give a listener several hosts or paths instead of one listener each, remove port mappings, or split the service"),
                );
            }
            for (l, listener) in service.listeners.iter().enumerate() {
                let l = l.to_string();
                let lat = |rest: &[&str]| sat(&[&["listeners", l.as_str()][..], rest].concat());
                let interval = listener.health_check_interval.unwrap_or(10);
                let timeout = listener.health_check_timeout.unwrap_or(5);
                if timeout >= interval {
                    let where_ = if listener.health_check_timeout.is_some() {
                        "health_check_timeout"
                    } else {
                        "health_check_interval"
                    };
                    out.push(
                        Diagnostic::error("health-check-timeout", format!("health check timeout ({timeout}s) must be less than its interval ({interval}s)"))
                            .at(lat(&[where_]), "here")
                            .help("lower `health_check_timeout` or raise `health_check_interval`"),
                    );
                }
                for (c, condition) in listener.rule_conditions.iter().enumerate() {
                    let span = || lat(&["rule_conditions", &c.to_string(), "value"]);
                    check_condition(condition.kind, &condition.value, span, &mut out);
                }
                for (h, host) in listener.hosts.iter().enumerate() {
                    check_condition(
                        ConditionType::HostHeader,
                        host,
                        || lat(&["hosts", &h.to_string()]),
                        &mut out,
                    );
                }
            }
        }
    }
    out
}

/// `port_mappings`, `public` and `health_check`: what Barcelona accepted for
/// its Classic ELB, checked for the network load balancer berth deploys.
fn check_port_mappings(
    service: &Service,
    sat: &dyn Fn(&[&str]) -> Span,
    out: &mut Vec<Diagnostic>,
) {
    let name = &service.name;
    if service.port_mappings.is_empty() {
        for key in ["public", "health_check"] {
            let set = match key {
                "public" => service.public.is_some(),
                _ => service.health_check.is_some(),
            };
            if set {
                out.push(
                    Diagnostic::warning("nlb-without-port-mappings", format!("`{key}` has no effect on `{name}`, which has no `port_mappings`"))
                        .at(sat(&[key]), "ignored")
                        .help(format!("add `port_mappings` to give `{name}` a network load balancer, or remove `{key}`")),
                );
            }
        }
        return;
    }
    let fargate = service.launch_type == Some(LaunchType::Fargate);
    // Each mapping's lb port, protocol, index and where its port is written.
    let mut seen: Vec<(u16, PortProtocol, usize, Span)> = Vec::new();
    for (m, mapping) in service.port_mappings.iter().enumerate() {
        let index = m.to_string();
        let mat = |key: &str| sat(&["port_mappings", index.as_str(), key]);
        // Where the mapping's load balancer port is set, or implied.
        let port_at = if mapping.lb_port.is_some() {
            mat("lb_port")
        } else if mapping.protocol.is_some() {
            mat("protocol")
        } else {
            mat("container_port")
        };
        let protocol = mapping.protocol.unwrap_or(PortProtocol::Tcp);
        let written = protocol_name(protocol);
        let special = match protocol {
            PortProtocol::Http => Some(80),
            PortProtocol::Https => Some(443),
            PortProtocol::Tcp | PortProtocol::Udp => None,
        };
        match (special, mapping.lb_port) {
            (None, None) => out.push(
                Diagnostic::error("missing-lb-port", format!("a `{written}` port mapping needs an `lb_port`"))
                    .at(port_at.clone(), "this mapping has no `lb_port`")
                    .help(format!("set `lb_port` to the port the load balancer listens on, e.g. `lb_port: {}`", mapping.container_port)),
            ),
            (Some(port), Some(lb_port)) if lb_port != port => out.push(
                Diagnostic::error("lb-port", format!("an `{written}` port mapping listens on port {port}, not {lb_port}"))
                    .at(mat("lb_port"), format!("must be {port}"))
                    .help(format!("write `lb_port: {port}` or remove it, or use `protocol: tcp` to listen on {lb_port}")),
            ),
            _ => {}
        }
        if special.is_some()
            && let Some((_, _, first, _)) = seen.iter().find(|(_, p, _, _)| *p == protocol)
        {
            out.push(
                Diagnostic::error("duplicate-port-mapping", format!("`{name}` has more than one `{written}` port mapping"))
                    .at(mat("protocol"), "second one")
                    .also(sat(&["port_mappings", &first.to_string(), "protocol"]), "first one")
                    .help("a service takes at most one `http` and one `https` mapping: remove one, or use `protocol: tcp` with its own `lb_port`"),
            );
        }
        let lb_port = mapping.lb_port.or(special);
        // Two `http` (or `https`) mappings are reported above.
        if let Some(lb_port) = lb_port
            && let Some((_, other, _, first_at)) = seen.iter().find(|(p, other, _, _)| {
                *p == lb_port && !(special.is_some() && *other == protocol)
            })
        {
            let udp = |p: PortProtocol| p == PortProtocol::Udp;
            let help = if udp(*other) == udp(protocol) {
                "each mapping needs its own `lb_port`: change one of them".to_owned()
            } else {
                "tcp and udp on one port would need a `TCP_UDP` listener, which berth does not deploy: ECS registers one host port per target, and the tcp and udp host ports of a task differ; give the `udp` mapping another `lb_port`".to_owned()
            };
            out.push(
                Diagnostic::error(
                    "duplicate-lb-port",
                    format!("two port mappings of `{name}` listen on `lb_port` {lb_port}"),
                )
                .at(port_at.clone(), "second one")
                .also(first_at.clone(), "first one")
                .help(help),
            );
        }
        seen.push((lb_port.unwrap_or(0), protocol, m, port_at));
        if mapping.host_port.is_some() {
            out.push(
                Diagnostic::note(
                    "host-port",
                    "berth registers targets on dynamic host ports; `host_port` is not used",
                )
                .at(mat("host_port"), "ignored")
                .help("remove `host_port`: the load balancer finds each task's port itself"),
            );
        }
        if protocol == PortProtocol::Udp {
            if mapping.enable_proxy_protocol == Some(true) {
                out.push(
                    Diagnostic::error(
                        "udp-proxy-protocol",
                        "the proxy protocol is only for tcp, not for a `udp` port mapping",
                    )
                    .at(mat("enable_proxy_protocol"), "not possible with `udp`")
                    .help("remove `enable_proxy_protocol`"),
                );
            }
            if !fargate {
                out.push(
                    Diagnostic::error("udp-on-ec2", format!("`{name}` has a `udp` port mapping but runs on EC2"))
                        .at(mat("protocol"), "needs `launch_type: FARGATE`")
                        .help("set `launch_type: FARGATE`: the load balancer checks udp targets over TCP, and on EC2 a task's udp host port answers no TCP, so the task would never be healthy"),
                );
            }
        }
    }
    if let Some(check) = &service.health_check
        && let Some(port) = check.port
    {
        if !service
            .port_mappings
            .iter()
            .any(|m| m.container_port == port)
            && !fargate
        {
            out.push(
                Diagnostic::error("health-check-port", format!("`health_check.port` {port} is not a `container_port` of `{name}`"))
                    .at(sat(&["health_check", "port"]), "no mapping has this port")
                    .help("on EC2 each task's ports are dynamic, so targets can only be checked on a mapped port: use one of the mappings' `container_port`, or remove `port`"),
            );
        } else if !fargate
            && service
                .port_mappings
                .iter()
                .any(|m| m.container_port != port)
        {
            out.push(
                Diagnostic::note("health-check-port", format!("on EC2, mappings of `{name}` on other ports are checked on their own port"))
                    .at(sat(&["health_check", "port"]), format!("checks the port {port} mapping only"))
                    .help("each task's ports are dynamic on EC2, so a target group can only check its own; with `launch_type: FARGATE` every target group checks this port"),
            );
        }
    }
}

fn protocol_name(protocol: PortProtocol) -> &'static str {
    match protocol {
        PortProtocol::Tcp => "tcp",
        PortProtocol::Udp => "udp",
        PortProtocol::Http => "http",
        PortProtocol::Https => "https",
    }
}

/// Rules for a command; `span` says where it is, and is only asked when
/// something is found.
fn check_command(
    command: &Command,
    span: impl Fn() -> Span,
    text: &str,
    out: &mut Vec<Diagnostic>,
) {
    match command {
        Command::Line(line) => {
            if let Some(found) = find_credential(line) {
                let at = inside(text, &span(), found.range.clone());
                out.push(credential_error("the command", &found, at));
            }
        }
        Command::Args(args) => {
            // Joined, so a flag and its value in two arguments are seen together.
            if let Some(found) = find_credential(&args.join(" ")) {
                out.push(credential_error("the command", &found, span()));
            }
        }
    }
    if let Command::Line(line) = command
        && shlex::split(line).is_none()
    {
        out.push(
            Diagnostic::error(
                "invalid-command",
                "the command has an unclosed quote or a trailing backslash",
            )
            .at(span(), "cannot be split into arguments")
            .help("close the quote, or write the command as a list of arguments"),
        );
    }
}

fn check_condition(
    kind: ConditionType,
    value: &str,
    span: impl Fn() -> Span,
    out: &mut Vec<Diagnostic>,
) {
    match kind {
        ConditionType::PathPattern => {
            // `*` alone is Barcelona's default condition (`listener.rb`): every path.
            if !value.starts_with(['/', '*']) {
                out.push(
                    Diagnostic::error(
                        "invalid-path-pattern",
                        format!("path pattern `{value}` must start with `/`"),
                    )
                    .at(span(), "a request path always starts with `/`")
                    .help(format!("write `/{value}`")),
                );
            } else if value.starts_with("//") {
                out.push(
                    Diagnostic::warning(
                        "double-slash-path",
                        format!(
                            "path pattern `{value}` starts with `//` and never matches a request"
                        ),
                    )
                    .at(span(), "request paths start with a single `/`")
                    .help(format!("write `/{}`", value.trim_start_matches('/'))),
                );
            }
        }
        ConditionType::HostHeader => {
            let valid = !value.is_empty()
                && value.len() <= 128
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '*' | '?'));
            if !valid {
                out.push(
                    Diagnostic::error(
                        "invalid-host",
                        format!("host `{value}` is not a valid host name pattern"),
                    )
                    .at(span(), "only letters, digits, `.`, `-`, `*` and `?`")
                    .help("write a host name such as `social.example.com` or `*.example.com`"),
                );
            }
        }
    }
}

/// Checks one `environment` (a heritage's at `base`, or a service's).
/// `injected` are the secrets berth injects with where they come from: a
/// literal under one of those names is an error, never a silent override.
fn check_environment(
    file: &Checked<InstanceFile>,
    base: &[&str],
    vars: Option<&EnvironmentVars>,
    injected: &[Injected],
    out: &mut Vec<Diagnostic>,
) {
    let at = |rest: &[&str]| file.at(&pointer(&[base, &["environment"], rest].concat()));
    let secret_literal = |name: &str, span: Span| {
        Diagnostic::error("secret-literal", format!("`{name}` looks like a secret but has a literal value"))
            .at(span, "this value would be written into artifacts in plain text")
            .help(format!(
                "store it in SSM Parameter Store or Secrets Manager and write `- name: {name}` with `value_from: <parameter or secret ARN>` or `ssm_path: <path>`"
            ))
    };
    let Some(vars) = vars else { return };
    let variables = vars.variables();
    for (i, var) in variables.iter().enumerate() {
        let name_at = || at(&var.name_at.iter().map(String::as_str).collect::<Vec<_>>());
        let given = [
            var.value.is_some(),
            var.value_from.is_some(),
            var.ssm_path.is_some(),
        ]
        .iter()
        .filter(|g| **g)
        .count();
        if given != 1 {
            out.push(
                Diagnostic::error("environment-entry", format!("`{}` needs exactly one of `value`, `value_from` and `ssm_path`", var.name))
                    .at(name_at(), if given == 0 { "no value given" } else { "more than one value given" })
                    .help("give a plain `value`, or a reference: `value_from` (ARN or parameter name) or `ssm_path`"),
            );
        }
        if let Some(first) = variables.iter().position(|v| v.name == var.name)
            && first != i
        {
            let first_at = variables[first]
                .name_at
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>();
            out.push(
                Diagnostic::error(
                    "duplicate-name",
                    format!("environment variable `{}` is set twice", var.name),
                )
                .at(name_at(), "set again here")
                .also(at(&first_at), "first set here")
                .help("remove one of them"),
            );
        }
        let literal = var
            .value
            .is_some_and(|v| !matches!(v, PlainValue::Text(t) if t.is_empty()));
        let url_password = matches!(var.value, Some(PlainValue::Text(t)) if url_has_password(t));
        let value_at = var.value_at.iter().map(String::as_str).collect::<Vec<_>>();
        let injected_here = injected.iter().find(|i| i.name == var.name);
        if let Some(generated) = injected_here.filter(|i| i.generated) {
            out.push(
                Diagnostic::error(
                    "generated-secret-set",
                    format!("`{}` is a secret berth generates (`resources.secrets`), and is set here too", var.name),
                )
                .at(name_at(), "would replace the generated secret")
                .also(generated.at.clone(), "generated here")
                .help(format!(
                    "remove `{}` here, or remove it from `resources.secrets` to keep your own value",
                    var.name
                )),
            );
        } else if let Some(Injected { from, .. }) = injected_here
            && var.value.is_some()
        {
            out.push(
                Diagnostic::error(
                    "injected-secret-literal",
                    format!("`{}` is injected from {from}, and a literal value would replace it", var.name),
                )
                .at(at(&value_at), "replaces the injected secret")
                .help(format!(
                    "remove `{}` here; to give the application another name for it, rename the injected variable with `resources.env`",
                    var.name
                )),
            );
        } else if literal && url_password {
            out.push(
                Diagnostic::error(
                    "secret-literal",
                    format!("`{}` is a URL with a password in it", var.name),
                )
                .at(at(&value_at), "this password would be written into artifacts in plain text")
                .help(format!(
                    "store the whole URL in SSM Parameter Store or Secrets Manager and write `- name: {}` with `value_from: <parameter or secret ARN>` or `ssm_path: <path>`",
                    var.name
                )),
            );
        } else if literal && looks_secret(var.name) {
            out.push(secret_literal(var.name, at(&value_at)));
        } else if let Some(PlainValue::Text(value)) = var.value
            && let Some(found) = find_credential(value)
        {
            out.push(credential_error(
                &format!("the value of `{}`", var.name),
                &found,
                at(&value_at),
            ));
        }
    }
}

/// A secret berth injects for a heritage's resources.
struct Injected {
    name: String,
    /// Where it comes from, for messages.
    from: &'static str,
    /// A generated secret (`resources.secrets`), which no entry may set in
    /// any form; `at` is where it is declared.
    generated: bool,
    at: Span,
}

/// The secrets berth injects for a heritage's resources, with where each
/// comes from. `base` is where the resources are written (the file's top
/// level or an environment).
fn injected_secrets(
    file: &Checked<InstanceFile>,
    base: &[&str],
    resources: Option<&crate::schema::Resources>,
) -> Vec<Injected> {
    let mut injected = Vec::new();
    let Some(resources) = resources else {
        return injected;
    };
    let pass = match resources.env.get("DB_PASS") {
        Some(renamed) => renamed.name().map(str::to_owned),
        None => Some("DB_PASS".to_owned()),
    };
    if resources.database.is_some()
        && let Some(pass) = pass
    {
        injected.push(Injected {
            name: pass,
            from: "the database's secret",
            generated: false,
            at: file.at(&pointer(&[base, &["resources", "database"]].concat())),
        });
    }
    let secrets = pointer(&[base, &["resources", "secrets"]].concat());
    for name in resources.secrets.keys() {
        injected.push(Injected {
            name: name.clone(),
            from: "a generated secret",
            generated: true,
            at: file
                .root
                .locate_key(&secrets, name)
                .unwrap_or_else(|| file.at(&secrets)),
        });
    }
    injected
}

/// Resource names (buckets, repositories) follow the name rule, so the names
/// derived from them cannot collide.
fn check_resources(
    file: &Checked<InstanceFile>,
    base: &[&str],
    resources: Option<&crate::schema::Resources>,
    out: &mut Vec<Diagnostic>,
) {
    let Some(resources) = resources else { return };
    let kinds: [(&str, &str, Vec<&String>); 2] = [
        ("buckets", "bucket", resources.buckets.keys().collect()),
        (
            "repositories",
            "repository",
            resources.repositories.keys().collect(),
        ),
    ];
    check_renames(file, base, resources, out);
    let secrets = pointer(&[base, &["resources", "secrets"]].concat());
    let mut ids: Vec<(String, &String)> = Vec::new();
    for name in resources.secrets.keys() {
        let span = || {
            file.root
                .locate_key(&secrets, name)
                .unwrap_or_else(|| file.at(&secrets))
        };
        if !is_variable_name(name) {
            out.push(
                Diagnostic::error("invalid-name", format!("secret name `{name}` is not a valid variable name"))
                    .at(span(), "here")
                    .help("use capital letters, digits and underscores, starting with a letter, e.g. `SECRET_KEY_BASE`"),
            );
            continue;
        }
        let id = crate::plan::secret_id(name);
        if let Some((_, first)) = ids.iter().find(|(i, _)| *i == id) {
            out.push(
                Diagnostic::error("duplicate-name", format!("secrets `{first}` and `{name}` would have the same resource name `{id}`"))
                    .at(span(), "here")
                    .also(file.root.locate_key(&secrets, first).unwrap_or_else(|| file.at(&secrets)), "and here")
                    .help("rename one of them: names differing only in underscores name the same resource"),
            );
        }
        ids.push((id, name));
    }
    for (kind, noun, names) in kinds {
        for name in names {
            if !is_name(name) || name.chars().any(|c| c.is_ascii_uppercase()) {
                let pointer = pointer(&[base, &["resources", kind]].concat());
                out.push(
                    Diagnostic::error("invalid-name", format!("{noun} name `{name}` is not valid"))
                        .at(file.root.locate_key(&pointer, name).unwrap_or_else(|| file.at(&pointer)), "here")
                        .help("use lowercase letters, digits and hyphens, starting and ending with a letter or digit"),
                );
            }
        }
    }
}

/// The variables berth injects for `resources`, by the name it gives them
/// (see the README's table), generated secrets left out.
#[must_use]
pub fn injected_names(resources: &crate::schema::Resources) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    if resources.database.is_some() {
        names.extend(["DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASS"].map(String::from));
    }
    if resources.cache.is_some() {
        names.extend(["REDIS_HOST", "REDIS_PORT", "REDIS_URL"].map(String::from));
    }
    if !resources.buckets.is_empty() {
        names.push("S3_BUCKET".to_owned());
        names.extend(resources.buckets.keys().map(|b| {
            format!(
                "S3_BUCKET_{}",
                b.to_ascii_uppercase()
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
            )
        }));
        names.extend(["S3_REGION", "S3_PERMISSION"].map(String::from));
        if resources.buckets.values().any(|b| b.cdn.is_some()) {
            names.push("S3_ALIAS_HOST".to_owned());
        }
    }
    names
}

/// `resources.env` renames only variables berth injects for these
/// resources, to valid names, and no two to the same one.
fn check_renames(
    file: &Checked<InstanceFile>,
    base: &[&str],
    resources: &crate::schema::Resources,
    out: &mut Vec<Diagnostic>,
) {
    let env = pointer(&[base, &["resources", "env"]].concat());
    let injected = injected_names(resources);
    let key_at = |key: &str| {
        file.root
            .locate_key(&env, key)
            .unwrap_or_else(|| file.at(&env))
    };
    let mut given: Vec<(&str, &str)> = Vec::new();
    for (key, name) in &resources.env {
        if !injected.contains(key) {
            let help = match super::schema::suggest(key, injected.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None if injected.is_empty() => {
                    "these resources inject no variables: remove `env`".to_owned()
                }
                None => format!(
                    "berth injects {} here",
                    injected
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            out.push(
                Diagnostic::error(
                    "unknown-injected-variable",
                    format!("`{key}` is not a variable berth injects for these resources"),
                )
                .at(key_at(key), "nothing to rename")
                .help(help),
            );
            continue;
        }
        if *name == crate::schema::InjectedName::Off(true) {
            out.push(
                Diagnostic::error("invalid-name", format!("`{key}: true` names no variable"))
                    .at(file.at(&format!("{env}/{key}")), "not a name")
                    .help(format!(
                        "write the name the application reads, or `{key}: false` to leave it out"
                    )),
            );
            continue;
        }
        let Some(name) = name.name() else { continue };
        let value_at = || {
            file.at(&format!(
                "{env}/{}",
                key.replace('~', "~0").replace('/', "~1")
            ))
        };
        if !(name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            out.push(
                Diagnostic::error("invalid-name", format!("`{name}` is not a valid variable name"))
                    .at(value_at(), "here")
                    .help("use letters, digits and underscores, not starting with a digit; or `null` to leave the variable out"),
            );
            continue;
        }
        // The name it lands on: another renamed variable's, or a kept injected one's.
        let kept = injected
            .iter()
            .find(|i| *i == name && *i != key && !resources.env.contains_key(i.as_str()));
        if let Some((first, _)) = given.iter().find(|(_, n)| *n == name) {
            out.push(
                Diagnostic::error(
                    "duplicate-name",
                    format!("`{key}` and `{first}` are both renamed to `{name}`"),
                )
                .at(value_at(), "here")
                .also(key_at(first), "and here")
                .help("give each variable its own name"),
            );
        } else if let Some(kept) = kept {
            out.push(
                Diagnostic::error(
                    "duplicate-name",
                    format!("`{key}` is renamed to `{name}`, which berth injects too"),
                )
                .at(value_at(), "here")
                .help(format!(
                    "rename or drop `{kept}` as well (`{kept}: null`), or choose another name"
                )),
            );
        }
        given.push((key, name));
    }
}

/// An environment variable name berth can derive resource names from:
/// capitals, digits and underscores, starting with a letter.
fn is_variable_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Rules for one district file.
#[must_use]
pub fn check_district(file: &Checked<DistrictFile>, district: &str, text: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let spec = &file.spec;
    if let Some(hours) = &spec.cluster.schedule {
        let times = Times {
            key: "cluster.schedule",
            off: &hours.off,
            on: &hours.on,
            timezone: hours.timezone.as_deref(),
            staggered: false,
            has_database: false,
        };
        check_off_hours(
            &times,
            &|field| file.at(&format!("/cluster/schedule/{field}")),
            text,
            &mut out,
        );
    }
    if let Some(max) = spec.cluster.max_size
        && max < spec.cluster.size
    {
        out.push(
            Diagnostic::error(
                "cluster-size",
                format!(
                    "`max_size` ({max}) is smaller than `size` ({})",
                    spec.cluster.size
                ),
            )
            .at(file.at("/cluster/max_size"), "smaller than `size`")
            .help("raise `max_size` to at least `size`, or remove it"),
        );
    }
    let network_zones = spec.network.availability_zones.unwrap_or(2);
    if let Some(zones) = spec.cluster.availability_zones
        && zones > network_zones
    {
        out.push(
            Diagnostic::error(
                "host-zones-beyond-network",
                format!("the hosts cannot run in {zones} availability zones: the network has {network_zones}"),
            )
            .at(file.at("/cluster/availability_zones"), "more zones than the network's")
            .help(format!("lower `cluster.availability_zones` to at most {network_zones}, or raise `network.availability_zones`")),
        );
    }
    // The Auto Scaling group keeps its first `on_demand_base` hosts (default
    // 1) on demand (`OnDemandBaseCapacity`): a cluster that never grows past
    // them gets no spot host at all.
    let max_size = spec.cluster.max_size.unwrap_or(spec.cluster.size);
    let base = spec.cluster.on_demand_base.unwrap_or(1);
    match spec.cluster.spot_share {
        Some(share) if share > 0 && max_size <= base => {
            let hosts = if max_size == 1 {
                "more than one host".to_owned()
            } else {
                format!("more than {max_size} hosts")
            };
            let base_text = if base == 1 {
                "the first is".to_owned()
            } else {
                format!("the first {base} are")
            };
            out.push(
                Diagnostic::warning(
                    "spot-share-without-spare-hosts",
                    format!("`spot_share: {share}` puts no host on spot: the cluster never has {hosts}, and {base_text} always on demand"),
                )
                .at(file.at("/cluster/spot_share"), "has no host to apply to")
                .help(format!("raise `max_size` (and `size`) above {base} for spot hosts, lower `on_demand_base` (`0` puts every host on spot), or remove `spot_share`")),
            );
        }
        Some(share) if share > 0 => {}
        _ => {
            if spec.cluster.on_demand_base.is_some() {
                out.push(
                    Diagnostic::warning(
                        "on-demand-base-without-spot",
                        "`on_demand_base` has no effect: no host runs on spot without `spot_share`",
                    )
                    .at(file.at("/cluster/on_demand_base"), "every host is on demand")
                    .help("set `spot_share` (the percent of hosts above the base on spot), or remove `on_demand_base`"),
                );
            }
        }
    }
    let octets: Vec<u32> = spec
        .network
        .cidr
        .split(['.', '/'])
        .filter_map(|o| o.parse().ok())
        .collect();
    if octets.iter().take(4).any(|o| *o > 255) {
        out.push(
            Diagnostic::error(
                "invalid-cidr",
                format!("`{}` is not an IPv4 range", spec.network.cidr),
            )
            .at(file.at("/network/cidr"), "an octet is above 255")
            .help("write a private range such as `10.1.0.0/16`"),
        );
    }
    for (i, port) in spec.network.egress_ports.iter().enumerate() {
        if *port == 0 {
            out.push(
                Diagnostic::error("out-of-range", "port `0` is not a port").at(
                    file.at(&pointer(&["network", "egress_ports", &i.to_string()])),
                    "here",
                ),
            );
        }
    }
    for (name, _) in &spec.endpoints {
        let load_balancer = format!("{district}-{name}");
        if load_balancer.len() > 32 {
            out.push(
                Diagnostic::error("name-too-long", format!("load balancer name `{load_balancer}` is longer than 32 characters"))
                    .at(file.root.locate_key("/endpoints", name).unwrap_or_else(|| file.at("/endpoints")), "named `<district>-<endpoint>`")
                    .help("AWS limits load balancer names to 32 characters: shorten the endpoint or district name"),
            );
        }
        if !is_name(name) {
            out.push(
                Diagnostic::error(
                    "invalid-name",
                    format!("endpoint name `{name}` is not valid"),
                )
                .at(
                    file.root
                        .locate_key("/endpoints", name)
                        .unwrap_or_else(|| file.at("/endpoints")),
                    "here",
                )
                .help(
                    "use letters, digits and hyphens, starting and ending with a letter or digit",
                ),
            );
        }
    }
    out
}

/// Valid Fargate memory sizes (MiB) for a CPU size, or `None` for an invalid CPU size.
#[must_use]
pub fn fargate_memory(cpu: u32) -> Option<Vec<u32>> {
    let (from, to, step): (u32, u32, usize) = match cpu {
        256 => return Some(vec![512, 1024, 2048]),
        512 => (1024, 4096, 1024),
        1024 => (2048, 8192, 1024),
        2048 => (4096, 16384, 1024),
        4096 => (8192, 30720, 1024),
        8192 => (16384, 61440, 4096),
        16384 => (32768, 122_880, 8192),
        _ => return None,
    };
    Some((from..=to).step_by(step).collect())
}

fn fargate_pair(
    cpu: u32,
    memory: u32,
    cpu_span: Span,
    memory_span: Span,
) -> Result<(), Diagnostic> {
    let Some(valid) = fargate_memory(cpu) else {
        return Err(Diagnostic::error(
            "fargate-size",
            format!("`cpu: {cpu}` is not a Fargate size"),
        )
        .at(cpu_span, "not a Fargate CPU size")
        .help("Fargate takes `cpu` 256, 512, 1024, 2048, 4096, 8192 or 16384"));
    };
    if valid.contains(&memory) {
        return Ok(());
    }
    let listed = valid
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    Err(Diagnostic::error(
        "fargate-size",
        format!("Fargate cannot run `cpu: {cpu}` with `memory: {memory}`"),
    )
    .at(memory_span, format!("not valid with `cpu: {cpu}`"))
    .help(format!(
        "with `cpu: {cpu}`, Fargate takes `memory` {listed}"
    )))
}

/// A district's folder name names its cluster, VPC and stacks, so it follows
/// the rule of heritage names.
#[must_use]
pub fn check_district_name(name: &str) -> Option<Diagnostic> {
    if name == crate::emit::REVIEW_DIR {
        return Some(
            Diagnostic::error(
                "invalid-name",
                format!("district folder `instances/{name}/` has a reserved name"),
            )
            .help(format!(
                "`out/{name}/` holds review apps (`berth review render --write`): rename the district's folder"
            )),
        );
    }
    (!is_name(name)).then(|| {
        Diagnostic::error(
            "invalid-name",
            format!("district folder `instances/{name}/` has an invalid name"),
        )
        .help(
            "a district's folder names its cluster and stacks: rename it to letters, digits and `-`, at least 2 characters, starting and ending with a letter or digit (e.g. `my-district`)",
        )
    })
}

/// Barcelona's name rule: `[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`.
#[must_use]
pub fn is_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() >= 2
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(text, the secret part found)`.
    const CREDENTIALS: &[(&str, Option<&str>)] = &[
        ("PGPASSWORD=x psql -h db", Some("x")),
        ("env DB_PASS=hunter2 rake db:migrate", Some("hunter2")),
        ("SMTP_PASSWD='s3cret' rails s", Some("'s3cret'")),
        ("rake db:migrate --password hunter2", Some("hunter2")),
        ("cli --db-password=hunter2", Some("hunter2")),
        ("curl https://u:pw@example.com/x", Some("pw")),
        (
            "aws configure set aws_access_key_id AKIAABCDEFGHIJKLMNOP",
            Some("AKIAABCDEFGHIJKLMNOP"),
        ),
        ("ASIA0123456789ABCDEF", Some("ASIA0123456789ABCDEF")),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
            Some("-----BEGIN RSA PRIVATE KEY-----"),
        ),
        // References, public values and look-alikes are not secrets.
        ("PGPASSWORD=$DB_PASS psql", None),
        ("RAILS_ENV=production rails s", None),
        ("rake secret", None),
        ("cli --token-file /run/token", None),
        ("cli --password", None),
        ("cli --password --verbose", None),
        ("-----BEGIN PUBLIC KEY-----", None),
        ("XAKIAABCDEFGHIJKLMNOP", None),
        ("AKIAabcdefghijklmnop", None),
        ("postgres://user@db/x", None),
        ("bundle exec rails s -p 3000 -b '0.0.0.0'", None),
    ];

    #[test]
    fn credentials_are_found_by_shape() {
        for (text, expected) in CREDENTIALS {
            let found = find_credential(text).map(|c| &text[c.range]);
            assert_eq!(found, *expected, "{text}");
        }
    }

    #[test]
    fn image_names_with_passwords() {
        let password = |image: &str| image_password(image).map(|r| image[r].to_owned());
        assert_eq!(
            password("user:pw@registry.example/app").as_deref(),
            Some("pw")
        );
        assert_eq!(password("registry.example/app@sha256:abc"), None);
        assert_eq!(password("registry.example:5000/app"), None);
        assert_eq!(password("user@registry.example/app"), None);
    }

    /// `(name, looks secret)`: what the name alone says.
    const SECRET_NAMES: &[(&str, bool)] = &[
        ("DB_PASSWORD", true),
        ("SECRET_KEY_BASE", true),
        ("OTP_SECRET", true),
        ("GITHUB_TOKEN", true),
        ("VAPID_PRIVATE_KEY", true),
        ("smtp_password", true),
        ("DB_PASS", true),
        ("REPLICA_DB_PASS", true),
        ("PASS", true),
        ("MYSQL_PASSWD", true),
        ("PASSWD_FILE_CONTENT", true),
        ("GOOGLE_APPLICATION_CREDENTIALS", true),
        ("CREDENTIALS_JSON", true),
        ("AWS_SECRET_ACCESS_KEY", true),
        ("ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY", true),
        ("VAPID_PUBLIC_KEY", false),
        ("STRIPE_PUBLIC_KEY", false),
        ("S3_PUBLIC_HOST", false),
        ("PUBLIC_KEY", false),
        ("DB_HOST", false),
        ("LOCAL_DOMAIN", false),
        ("KEYBASE", false),
        ("S3_BUCKET", false),
        ("RAILS_ENV", false),
        ("PASSENGER_PORT", false),
        ("BYPASS", false),
        ("DB_PASSAGE", false),
        ("S3_PERMISSION", false),
    ];

    #[test]
    fn secret_names() {
        for (name, secret) in SECRET_NAMES {
            assert_eq!(looks_secret(name), *secret, "{name}");
        }
    }

    /// `(value, has a password in a URL's userinfo)`.
    const URL_PASSWORDS: &[(&str, bool)] = &[
        ("postgres://u:pw@db.internal:5432/mastodon", true),
        ("postgresql://mastodon:s3cret@db/mastodon_production", true),
        ("redis://:pw@cache:6379/0", true),
        ("rediss://default:token@cache.example:6379", true),
        ("mysql2://lokka:pw@db/lokka?encoding=utf8", true),
        ("amqp://guest:guest@mq", true),
        ("postgres://u@db/mastodon", false),
        ("postgres://u:@db/mastodon", false),
        ("rediss://cache.example:6379", false),
        ("https://example.com/a:b@c", false),
        ("https://example.com/?q=u:p@x", false),
        ("u:pw@host", false),
        ("plain text with :// and a:b@c", false),
        ("", false),
    ];

    #[test]
    fn url_passwords() {
        for (value, password) in URL_PASSWORDS {
            assert_eq!(url_has_password(value), *password, "{value}");
        }
    }

    #[test]
    fn names() {
        for name in ["bcn-users", "web", "a1", "A-b-9"] {
            assert!(is_name(name), "{name}");
        }
        for name in ["-web", "web-", "w", "web_1", "wéb", ""] {
            assert!(!is_name(name), "{name}");
        }
    }

    #[test]
    fn the_review_folder_is_not_a_district() {
        assert!(check_district_name("review").is_some());
        assert!(check_district_name("reviews").is_none());
    }

    #[test]
    fn fargate_sizes() {
        assert_eq!(fargate_memory(256), Some(vec![512, 1024, 2048]));
        assert_eq!(fargate_memory(512), Some(vec![1024, 2048, 3072, 4096]));
        assert_eq!(
            fargate_memory(16384).map(|m| (m[0], m[m.len() - 1], m.len())),
            Some((32768, 122_880, 12))
        );
        assert_eq!(fargate_memory(300), None);
    }

    #[test]
    fn pointers_escape() {
        assert_eq!(pointer(&["a/b", "c~d"]), "/a~1b/c~0d");
    }
}
