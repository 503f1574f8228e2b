//! Golden tests: the full text `berth validate` prints for each kind of
//! problem, exactly as a user sees it. Review changes with `cargo insta review`.

use crate::support::Fleet;

/// The tutorial's `barcelona.yml`, verbatim.
pub const TUTORIAL: &str = "\
web_base: &web_base
  service_type: web
  force_ssl: true
  cpu: 256
  memory: 256

worker_base: &worker_base
  cpu: 128
  memory: 256

environments:
  production:
    name: bcn-users
    image_name: 822761295011.dkr.ecr.ap-northeast-1.amazonaws.com/mstdn-bcn-users-mastodon
    before_deploy: rake db:migrate
    scheduled_tasks:
      - schedule: cron(15 20 ? * * *)
        command: rake mastodon:daily
    services:
      - <<: *web_base
        name: web
        command: bundle exec rails s -p 3000 -b '0.0.0.0'
        listeners:
          - endpoint: mstdn
            health_check_path: /about
      - <<: *web_base
        name: streaming
        command: npm run start
        memory: 128
        listeners:
          - endpoint: mstdn
            rule_conditions:
              - type: path-pattern
                value: //api/v1/streaming/*
            health_check_path: /api/v1/streaming/health_check
            rule_priority: 10
      - <<: *worker_base
        name: worker
        command: bundle exec sidekiq -q default -q mailers -q pull -q push
";

/// A valid instance to derive broken ones from.
pub const APP: &str = "\
environments:
  production:
    name: app
    image_name: registry.example/app
    image_tag: v1
    services:
      - name: web
        service_type: web
        cpu: 256
        memory: 512
        listeners:
          - endpoint: mstdn
            hosts: [app.example.social]
";

fn validate(instance: &str) -> String {
    Fleet::new()
        .file("instances/mstdn/app.yml", instance)
        .run(&["validate"])
        .transcript()
}

fn with(from: &str, to: &str) -> String {
    assert!(APP.contains(from), "{from}");
    validate(&APP.replacen(from, to, 1))
}

macro_rules! golden {
    ($($name:ident: $transcript:expr;)*) => {$(
        #[test]
        fn $name() {
            insta::assert_snapshot!($transcript);
        }
    )*};
}

golden! {
    valid_app: validate(APP);
    tutorial_has_one_warning: validate(TUTORIAL);
    yaml_syntax_error: validate("environments:\n  production: [name: x\n");
    tab_indentation: validate("environments:\n\tproduction:\n    name: x\n");
    empty_file: validate("# nothing yet\n");
    duplicate_key: with("    image_tag: v1\n", "    image_tag: v1\n    image_tag: v2\n");
    merge_of_a_scalar: validate("base: &base 1\nenvironments:\n  <<: *base\n");
    unsupported_tag: with("image_tag: v1", "image_tag: !Sub v1");
    unknown_key_with_suggestion: with("hosts:", "health_chek_path: /x\n            hosts:");
    unknown_top_level_key: validate(&format!("{APP}extra: 1\n"));
    wrong_type: with("cpu: 256", "cpu: \"256\"");
    command_of_wrong_type: with("memory: 512", "memory: 512\n        command: {run: x}");
    missing_key: with("    image_name: registry.example/app\n", "");
    invalid_enum_with_suggestion: with("service_type: web", "service_type: wbe");
    cpu_zero: with("cpu: 256", "cpu: 0");
    priority_out_of_range: with("hosts:", "rule_priority: 50001\n            hosts:");
    invalid_name: with("name: app", "name: my_app");
    cron_hour_out_of_range: with("    services:", "    scheduled_tasks:\n      - schedule: cron(0 25 * * ? *)\n        command: rake x\n    services:");
    cron_both_days: with("    services:", "    scheduled_tasks:\n      - schedule: \"cron(0 10 * * * *)\"\n        command: rake x\n    services:");
    rate_unit_plural: with("    services:", "    scheduled_tasks:\n      - schedule: rate(5 minute)\n        command: rake x\n    services:");
    off_hours_bad_times_and_zone: with("    services:", "    schedule:\n      off: cron(0,30 22 * * ? *)\n      on: cron(0 25 * * ? *)\n      timezone: asia/tokyo\n    services:");
    off_hours_on_is_off: with("    services:", "    schedule:\n      off: cron(0 22 * * ? *)\n      on: cron(00 22 * * ? *)\n      timezone: Mars/Olympus\n    services:");
    off_hours_past_midnight_and_rare_on: with("    services:", "    schedule:\n      off: cron(55 23 * * ? *)\n      on: cron(50 23 1 * ? *)\n    resources:\n      database: {engine: postgres, instance_class: db.t4g.micro, name: app, user: app}\n    services:");
    off_hours_autoscaling_and_no_services: validate(&format!("{}  staging:\n    name: app-staging\n    image_name: registry.example/app\n    image_tag: v1\n    schedule: {{off: cron(0 22 * * ? *), on: cron(0 7 * * ? *)}}\n", APP.replace("    services:", "    schedule:\n      off: cron(0 22 * * ? *)\n      on: cron(0 6 ? * MON-FRI *)\n    services:").replace("        memory: 512\n", "        memory: 512\n        autoscaling: {min: 1, max: 2, cpu_target: 60}\n")));
    unknown_endpoint: with("endpoint: mstdn", "endpoint: mstdm");
    duplicate_service: with("    services:\n", "    services:\n      - name: web\n        cpu: 1\n        memory: 6\n");
    merged_template_error_is_reported_once: validate(&TUTORIAL.replacen("  cpu: 256\n", "  cpu: 256\n  environment:\n    SMTP_PASSWORD: hunter2hunter2\n", 1));
    url_with_password_literal: with("    services:", "    environment:\n      DATABASE_URL: postgres://app:hunter2@db.internal/app\n    services:");
    injected_db_pass_literal: with("    services:", "    environment:\n      DB_PASS: \"\"\n    resources:\n      database: {engine: postgres, instance_class: db.t4g.micro, name: app, user: app}\n    services:");
    service_secret_literal: with("        memory: 512\n", "        memory: 512\n        environment:\n          SMTP_PASSWORD: hunter2\n");
    secret_literal_in_map: with("    services:", "    environment:\n      DB_PASSWORD: hunter2\n    services:");
    secret_literal_in_list: with("    services:", "    environment:\n      - name: SECRET_KEY_BASE\n        value: abc\n    services:");
    environment_entry_with_two_values: with("    services:", "    environment:\n      - name: DB_HOST\n        value: db\n        ssm_path: app/db_host\n    services:");
    path_without_slash: with("hosts: [app.example.social]", "rule_conditions:\n              - type: path-pattern\n                value: api/*");
    listener_on_worker: with("        service_type: web\n", "");
    unclosed_quote: with("memory: 512", "memory: 512\n        command: echo 'oops");
    health_check_timeout: with("hosts:", "health_check_interval: 5\n            hosts:");
    reserved_service_name: with("name: web", "name: before-deploy");
    generated_secret_set_again: validate(&format!("resources:\n  secrets:\n    SECRET_KEY_BASE: {{length: 128, characters: hex}}\n{}", APP.replace("    services:", "    environment:\n      SECRET_KEY_BASE: {ssm_path: app/secret_key_base}\n    services:")));
    generated_secret_set_by_a_service: validate(&format!("resources:\n  secrets:\n    OTP_SECRET: {{}}\n{}", APP.replace("        memory: 512\n", "        memory: 512\n        environment:\n          OTP_SECRET: abc\n")));
    generated_secret_names: validate(&format!("resources:\n  secrets:\n    secret_key_base: {{}}\n    KEY_2: {{}}\n    KEY2: {{}}\n    SHORT: {{length: 8, characters: base64}}\n{APP}"));
    unknown_repository: validate(&format!("resources:\n  repositories:\n    app: {{}}\n    worker: {{}}\n{}", APP.replace("image_name: registry.example/app", "image_name: {repository: ap}")));
    repository_image_without_repositories: with("image_name: registry.example/app", "image_name: {repository: app}");
    ecr_image_outside_the_fleet: validate(&format!("resources:\n  repositories:\n    app: {{}}\n{}", APP.replace("image_name: registry.example/app", "image_name: 123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/mstdn-app-app")));
    renamed_injected_variables: validate(&format!("resources:\n  database: {{engine: mysql, instance_class: db.t4g.micro, name: app, user: app}}\n  env:\n    DB_HOTS: DATABASE_HOST\n    DB_PASS: DATABASE_PASSWORD\n    DB_USER: DATABASE_PASSWORD\n    DB_NAME: 1st\n    DB_PORT: DB_HOST\n    S3_BUCKET: false\n    DB_HOST: true\n{}", APP.replace("    services:", "    environment:\n      DATABASE_PASSWORD: hunter2\n    services:")));
    invalid_bucket_name: validate(&format!("resources:\n  buckets:\n    Media_Files: {{}}\n{APP}"));
    schema_error_does_not_hide_rule_errors: validate(&APP.replace("memory: 512", "memory: 512\n        desired_count: many").replace("    services:", "    environment:\n      DB_PASSWORD: hunter2\n    scheduled_tasks:\n      - schedule: cron(0 25 * * ? *)\n        command: rake x\n    services:"));
    yaml11_boolean_is_a_note: with("service_type: web", "service_type: web\n        force_ssl: yes");
    invalid_host: with("hosts: [app.example.social]", "hosts: [\"app example\"]");
    port_mapping_without_lb_port: with(PORTS_AT, "port_mappings:\n          - container_port: 1883\n        listeners:");
    http_port_mapping_on_another_port: with(PORTS_AT, "port_mappings:\n          - protocol: http\n            lb_port: 8080\n            container_port: 8080\n        listeners:");
    two_port_mappings_on_one_lb_port: with(PORTS_AT, "port_mappings:\n          - lb_port: 5000\n            container_port: 5000\n          - lb_port: 5000\n            container_port: 5001\n        listeners:");
    tcp_and_udp_on_one_lb_port: with(PORTS_AT, "launch_type: FARGATE\n        port_mappings:\n          - lb_port: 53\n            container_port: 53\n          - protocol: udp\n            lb_port: 53\n            container_port: 53\n        listeners:");
    two_https_port_mappings: with(PORTS_AT, "port_mappings:\n          - protocol: https\n            container_port: 8443\n          - protocol: https\n            container_port: 9443\n        listeners:");
    host_port_is_a_note: with(PORTS_AT, "port_mappings:\n          - lb_port: 6379\n            container_port: 6379\n            host_port: 16379\n        listeners:");
    udp_port_mapping_on_ec2: with(PORTS_AT, "port_mappings:\n          - protocol: udp\n            lb_port: 514\n            container_port: 514\n            enable_proxy_protocol: true\n        listeners:");
    health_check_port_not_mapped_on_ec2: with(PORTS_AT, "health_check:\n          port: 9000\n        port_mappings:\n          - lb_port: 25\n            container_port: 2525\n        listeners:");
    public_without_port_mappings: with(PORTS_AT, "public: true\n        listeners:");
    integral_floats_are_integers: with("cpu: 256\n        memory: 512", "cpu: 2.56e2\n        memory: 512.0");
    fractional_cpu: with("cpu: 256", "cpu: 256.5");
    too_many_target_groups: with(PORTS_AT, "port_mappings:\n          - {lb_port: 1, container_port: 1}\n          - {lb_port: 2, container_port: 2}\n          - {lb_port: 3, container_port: 3}\n          - {lb_port: 4, container_port: 4}\n          - {lb_port: 5, container_port: 5}\n        listeners:");
}

/// Keys Barcelona reads that berth deploys differently, or that Barcelona
/// dropped: each is a located note or warning, never an `unknown-key` error.
const BARCELONA_KEYS: &str = "\
bcnd:
  mainline_branch: main
  mainline_environment: staging
environments:
  production:
    name: app
    version: 1
    slack_url: https://hooks.slack.com/services/REDACTED
    env_vars:
      RAILS_ENV: production
    image_name: registry.example/app
    image_tag: v1
    run_env:
      vars: {RAILS_LOG_LEVEL: debug}
    scheduled_tasks:
      - schedule: rate(1 hour)
        command: rake cleanup
        external_task_def: cleanup-task
    services:
      - name: web
        service_type: web
        desired_count: 0
        reverse_proxy_image: public.ecr.aws/degica/barcelona-reverse-proxy:latest
        hosts:
          - hostname: app.example.social
            ssl_cert_path: s3://certs/app.crt
            ssl_key_path: s3://certs/app.key
        listeners:
          - endpoint: mstdn
            rule_conditions:
              - {type: host-header, value: app.example.social}
            healthy_threshold: 3
            healthy_threshold_count: 3
review:
  group: reviews
  image_name: registry.example/app
  services:
    - name: web
      service_type: web
      command: rails s
";

golden! {
    barcelona_keys_are_read_with_notes: validate(BARCELONA_KEYS);
    environment_map_of_the_wrong_shape: with("    services:", "    environment:\n      SECRET_KEY_BASE: {ssm: app/secret}\n      LOCAL_DOMAIN: [a, b]\n    services:");
    bcn_environment_map_form: with("    services:", "    environment:\n      SECRET_KEY_BASE: {ssm_path: app/secret_key_base}\n      LOCAL_DOMAIN: {value: app.example.social}\n      DB_PASSWORD: {value: hunter2}\n    services:");
    unknown_key_listners: with("        listeners:", "        listners:");
    empty_keys_mean_absent: with("    image_tag: v1\n", "    image_tag:\n    before_deploy:\n    scheduled_tasks:\n    environment:\n");
}
/// Where the port mapping cases add keys to `APP`'s web service.
const PORTS_AT: &str = "listeners:";

#[test]
fn non_utf8_file() {
    let output = Fleet::new()
        .bytes(
            "instances/mstdn/app.yml",
            b"environments:\n  production:\n    name: caf\xe9\n",
        )
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
}

#[test]
fn alias_bomb() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    insta::assert_snapshot!(validate(&text));
}

#[test]
fn duplicate_heritage_across_files() {
    let output = Fleet::new()
        .file("instances/mstdn/app.yml", APP)
        .file(
            "instances/mstdn/copy.yml",
            &APP.replace("app.example", "copy.example"),
        )
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
}

#[test]
fn priority_conflict_across_files() {
    let one = APP.replace("hosts:", "rule_priority: 5\n            hosts:");
    let two = one
        .replace("name: app", "name: other")
        .replace("app.example", "other.example");
    let output = Fleet::new()
        .file("instances/mstdn/app.yml", &one)
        .file("instances/mstdn/other.yml", &two)
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
}

#[test]
fn missing_district_file() {
    let output = Fleet::new()
        .file("instances/other/app.yml", APP)
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
}

#[test]
fn district_with_unknown_key_and_bad_values() {
    let district = crate::support::DISTRICT
        .replace(
            "size: 2",
            "size: 2\n  max_size: 1\n  instance_typ: t3.small",
        )
        .replace("10.1.0.0/16", "10.1.0.0/8");
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", &district)
        .file("instances/mstdn/app.yml", APP)
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
}

/// The first host is always on demand: a one-host cluster has none to put on spot.
#[test]
fn spot_share_on_a_one_host_cluster_is_a_warning() {
    let district = crate::support::DISTRICT.replace("size: 2", "size: 1\n  spot_share: 100");
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", &district)
        .file("instances/mstdn/app.yml", APP)
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
    let grows =
        crate::support::DISTRICT.replace("size: 2", "size: 1\n  max_size: 3\n  spot_share: 100");
    let fine = Fleet::new()
        .file("instances/mstdn/district.yml", &grows)
        .file("instances/mstdn/app.yml", APP)
        .run(&["validate"]);
    assert!(!fine.stderr.contains("spot-share"), "{}", fine.stderr);
}

/// A service on the hosts with `capacity: spot` runs on the district's spot
/// hosts, which grow from none to `max_size`: too many spot tasks for them
/// is a warning; Fargate Spot needs no hosts.
#[test]
fn spot_capacity_on_an_ec2_service() {
    let app = APP.replace(
        "        cpu: 256\n",
        "        cpu: 256\n        capacity: spot\n",
    );
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", crate::support::DISTRICT)
        .file("instances/mstdn/app.yml", &app)
        .run(&["validate"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert!(
        !output.stderr.contains("spot-capacity"),
        "{}",
        output.stderr
    );
    let big = app
        .replace("        cpu: 256\n", "        cpu: 1024\n")
        .replace(
            "        memory: 512\n",
            "        memory: 1536\n        desired_count: 2\n",
        );
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", crate::support::DISTRICT)
        .file("instances/mstdn/app.yml", &big)
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
    let fargate = app.replace(
        "capacity: spot",
        "capacity: spot\n        launch_type: FARGATE",
    );
    let fine = Fleet::new()
        .file("instances/mstdn/district.yml", crate::support::DISTRICT)
        .file("instances/mstdn/app.yml", &fargate)
        .run(&["validate"]);
    assert_eq!(fine.code, 0, "{}", fine.stderr);
}

/// `nat: none` leaves the private subnets, where Fargate tasks run, without a route out.
#[test]
fn fargate_in_a_district_without_nat() {
    let district =
        crate::support::DISTRICT.replace("  egress_ports", "  nat: none\n  egress_ports");
    let app = APP.replace(
        "        cpu: 256\n",
        "        cpu: 256\n        launch_type: FARGATE\n",
    );
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", &district)
        .file("instances/mstdn/app.yml", &app)
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
    let ec2 = Fleet::new()
        .file("instances/mstdn/district.yml", &district)
        .file("instances/mstdn/app.yml", APP)
        .run(&["validate"]);
    assert_eq!(ec2.code, 0, "{}", ec2.stderr);
}

/// The hosts' zones are some of the network's: never more.
#[test]
fn host_zones_beyond_the_network() {
    let district = crate::support::DISTRICT.replace("size: 2", "size: 2\n  availability_zones: 3");
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", &district)
        .file("instances/mstdn/app.yml", APP)
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
    let one = crate::support::DISTRICT.replace("size: 2", "size: 1\n  availability_zones: 1");
    let fine = Fleet::new()
        .file("instances/mstdn/district.yml", &one)
        .file("instances/mstdn/app.yml", APP)
        .run(&["validate"]);
    assert_eq!(fine.code, 0, "{}", fine.stderr);
}

#[test]
fn integral_float_in_a_district() {
    let district = crate::support::DISTRICT.replace("size: 2", "size: 2.0");
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", &district)
        .file("instances/mstdn/app.yml", APP)
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
}

#[test]
fn many_errors_are_reported_together() {
    let text = APP
        .replace("cpu: 256", "cpu: -1")
        .replace("endpoint: mstdn", "endpoint: nope")
        .replace("image_tag: v1", "image_tga: v1");
    insta::assert_snapshot!(validate(&text));
}

#[test]
fn json_format() {
    let output = Fleet::new()
        .file(
            "instances/mstdn/app.yml",
            &APP.replace("cpu: 256", "cpu: zero"),
        )
        .file("instances/mstdn/tutorial.yml", TUTORIAL)
        .run(&["validate", "--format", "json"]);
    insta::assert_snapshot!(output.transcript());
}

#[test]
fn deny_warnings_fails_on_the_tutorial() {
    let fleet = Fleet::new().file("instances/mstdn/bcn-users.yml", TUTORIAL);
    assert_eq!(fleet.run(&["validate"]).code, 0);
    assert_eq!(fleet.run(&["validate", "--deny-warnings"]).code, 1);
}

/// The file system as berth reads it: links, look-alike names, stray files.
mod file_system {
    use super::{APP, Fleet};

    fn other(name: &str) -> String {
        APP.replace("name: app", &format!("name: {name}"))
            .replace("app.example", &format!("{name}.example"))
    }

    #[test]
    fn district_yaml_beside_district_yml() {
        let output = Fleet::new()
            .file("instances/mstdn/district.yaml", crate::support::DISTRICT)
            .file("instances/mstdn/app.yml", APP)
            .run(&["validate"]);
        insta::assert_snapshot!(output.transcript());
    }

    #[test]
    fn instance_written_twice() {
        let output = Fleet::new()
            .file("instances/mstdn/app.yml", APP)
            .file("instances/mstdn/app.yaml", &other("copy"))
            .run(&["validate"]);
        insta::assert_snapshot!(output.transcript());
    }

    #[test]
    fn folder_named_like_an_instance_file() {
        let fleet = Fleet::new().file("instances/mstdn/app.yml", APP);
        std::fs::create_dir(fleet.path().join("instances/mstdn/web.yml")).unwrap();
        insta::assert_snapshot!(fleet.run(&["validate"]).transcript());
    }

    #[test]
    fn instance_file_outside_a_district() {
        let output = Fleet::new()
            .file("instances/mstdn/app.yml", APP)
            .file("instances/stray.yml", &other("stray"))
            .run(&["validate"]);
        insta::assert_snapshot!(output.transcript());
    }

    #[test]
    fn district_folder_with_an_invalid_name() {
        let output = Fleet::new()
            .file(
                "instances/my district/district.yml",
                crate::support::DISTRICT,
            )
            .file("instances/my district/app.yml", APP)
            .run(&["validate"]);
        insta::assert_snapshot!(output.transcript());
    }

    #[test]
    fn symlinked_district_folder_and_instance_file_are_read() {
        let fleet = Fleet::new()
            .file("instances/mstdn/app.yml", APP)
            .file("shared/other/district.yml", crate::support::DISTRICT)
            .file("shared/other/other.yml", &other("other"))
            .file("shared/linked.yml", &other("linked"));
        let root = fleet.path();
        std::os::unix::fs::symlink("../shared/other", root.join("instances/other")).unwrap();
        std::os::unix::fs::symlink(
            "../../shared/linked.yml",
            root.join("instances/mstdn/linked.yml"),
        )
        .unwrap();
        insta::assert_snapshot!(fleet.run(&["validate"]).transcript());
    }

    #[test]
    fn dangling_symlink() {
        let fleet = Fleet::new().file("instances/mstdn/app.yml", APP);
        std::os::unix::fs::symlink("gone.yml", fleet.path().join("instances/mstdn/old.yml"))
            .unwrap();
        insta::assert_snapshot!(fleet.run(&["validate"]).transcript());
    }

    #[test]
    fn symlink_loop() {
        let fleet = Fleet::new().file("instances/mstdn/app.yml", APP);
        std::os::unix::fs::symlink(".", fleet.path().join("instances/loop")).unwrap();
        insta::assert_snapshot!(fleet.run(&["validate"]).transcript());
    }
}

golden! {
    infinite_number: with("memory: 512", "memory: .inf");
    not_a_number: with("cpu: 256", "cpu: .nan");
}

golden! {
    password_assignment_in_before_deploy: with("    services:", "    before_deploy: PGPASSWORD=hunter2 rake db:migrate\n    services:");
    password_flag_in_a_command: with("memory: 512", "memory: 512\n        command: [rake, db:migrate, --password, hunter2]");
    password_in_a_scheduled_command: with("    services:", "    scheduled_tasks:\n      - schedule: rate(1 hour)\n        command: env SMTP_PASSWD=s3cret rake mail\n    services:");
    password_in_the_image_name: with("image_name: registry.example/app", "image_name: deploy:hunter2@registry.example/app");
    access_key_id_in_a_value: with("    services:", "    environment:\n      AWS_ACCESS_KEY_ID: AKIAABCDEFGHIJKLMNOP\n    services:");
    private_key_in_a_value: with("    services:", "    environment:\n      TLS_CERT: \"-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----\"\n    services:");
}

/// A district's hosts go off only while every heritage on them is off: one
/// without `schedule`, one that goes off after the hosts, one read in another
/// time zone; a heritage all on Fargate does not need the hosts. The hosts'
/// own times are checked like a heritage's.
#[test]
fn host_schedule_needs_every_heritage_on_the_hosts_off() {
    let district = crate::support::DISTRICT.replace(
        "size: 2\n",
        "size: 2\n  schedule:\n    off: cron(15 1 * * ? *)\n    on: cron(50 6 * * ? *)\n    timezone: Asia/Tokyo\n",
    );
    let heritage = |name: &str, schedule: &str| {
        APP.replace("name: app\n", &format!("name: {name}\n{schedule}"))
            .replace("app.example.social", &format!("{name}.example.social"))
    };
    let late =
        "    schedule: {off: cron(30 1 * * ? *), on: cron(0 7 * * ? *), timezone: Asia/Tokyo}\n";
    let elsewhere =
        "    schedule: {off: cron(0 1 * * ? *), on: cron(0 7 * * ? *), timezone: Europe/Berlin}\n";
    let weekdays = "    schedule: {off: cron(0 1 ? * MON-FRI *), on: cron(0 7 * * ? *), timezone: Asia/Tokyo}\n";
    let fine =
        "    schedule: {off: cron(0 1 * * ? *), on: cron(0 7 * * ? *), timezone: Asia/Tokyo}\n";
    let fargate = heritage("cloud", "").replace(
        "        cpu: 256\n",
        "        launch_type: FARGATE\n        cpu: 256\n",
    );
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", &district)
        .file("instances/mstdn/always.yml", &heritage("always", ""))
        .file("instances/mstdn/late.yml", &heritage("late", late))
        .file(
            "instances/mstdn/elsewhere.yml",
            &heritage("elsewhere", elsewhere),
        )
        .file(
            "instances/mstdn/weekdays.yml",
            &heritage("weekdays", weekdays),
        )
        .file("instances/mstdn/fine.yml", &heritage("fine", fine))
        .file("instances/mstdn/cloud.yml", &fargate)
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());

    let bad_times = district
        .replace("cron(50 6 * * ? *)", "cron(15 1 * * ? *)")
        .replace("timezone: Asia/Tokyo", "timezone: asia/tokyo");
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", &bad_times)
        .file("instances/mstdn/cloud.yml", &fargate)
        .run(&["validate"]);
    insta::assert_snapshot!("host_schedule_times", output.transcript());
}

/// `on_demand_base: 0` lets `spot_share` put the first host on spot too; a
/// base without a share does nothing, and says so.
#[test]
fn on_demand_base_moves_the_first_host_to_spot() {
    let all_spot = crate::support::DISTRICT
        .replace("size: 2", "size: 1\n  spot_share: 100\n  on_demand_base: 0");
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", &all_spot)
        .file("instances/mstdn/app.yml", APP)
        .run(&["validate"]);
    assert!(
        !output.stderr.contains("spot-share-without-spare-hosts"),
        "{}",
        output.stderr
    );
    assert!(
        output.stderr.contains("0 errors, 0 warnings"),
        "{}",
        output.stderr
    );
    let base_only = crate::support::DISTRICT.replace("size: 2", "size: 2\n  on_demand_base: 2");
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", &base_only)
        .file("instances/mstdn/app.yml", APP)
        .run(&["validate"]);
    insta::assert_snapshot!(output.transcript());
    let base_too_high = crate::support::DISTRICT
        .replace("size: 2", "size: 2\n  spot_share: 50\n  on_demand_base: 2");
    let output = Fleet::new()
        .file("instances/mstdn/district.yml", &base_too_high)
        .file("instances/mstdn/app.yml", APP)
        .run(&["validate"]);
    assert!(
        output.stderr.contains("spot-share-without-spare-hosts"),
        "{}",
        output.stderr
    );
    assert!(
        output.stderr.contains("the first 2 are always on demand"),
        "{}",
        output.stderr
    );
}
