#!/usr/bin/env python3
"""moto's server (the pinned moto[server]) with the five fixes berth's end-to-end test needs.

1. moto 5.2.5's ExecuteChangeSet applies a change set's resources but leaves the
stack as CreateChangeSet made it: no Outputs, no Exports, and (for a CREATE
change set) no view of other stacks' exports, so `Fn::ImportValue` fails. Real
CloudFormation does all three; `berth apply` deploys only through change sets
and the app stacks import the district's exports, so without this nothing past
the district stack could be tested. The fix recomputes outputs and exports after
execution, the way moto's own CreateStack/UpdateStack paths do.

2. moto has no CloudFormation support for AWS::ECS::CapacityProvider and
AWS::ECS::ClusterCapacityProviderAssociations (it logs "No Moto CloudFormation
support" and skips them), so the district's `CapacityProviderName` output and
its `<district>-CapacityProvider` export have no value and every app stack's
`Fn::ImportValue` of it fails. The two models below create them through moto's
own ECS API (CreateCapacityProvider, PutClusterCapacityProviders).

3. moto does not evaluate `Fn::Cidr` (it hands the function back as a dict, and
the surrounding `Fn::Select` fails with a server error), so the district stack,
which cuts its subnets out of the VPC range with it, cannot be created. The
wrapper below evaluates it as CloudFormation documents: `count` blocks of
`cidrBits` host bits, in order.

4. moto's RDS accepts `ManageMasterUserPassword` through its API, but its
CloudFormation model neither passes it on nor answers `Fn::GetAtt
Database.MasterUserSecret.SecretArn`, which the data stack exports so that
the app stack can hand the database password to ECS as a secret. The wrapper
below answers it the way RDS does: the ARN of the secret RDS keeps for the
instance, created through moto's own MasterUserSecret when first asked for.

5. moto has no CloudFormation support for AWS::SecretsManager::Secret (it logs
"No Moto CloudFormation support" and skips it), so a data stack's generated
secrets (`GenerateSecretString`) have no ARN to export, and `before_deploy`
cannot be given them. The model below creates each through moto's own Secrets
Manager backend, with a value drawn by its GetRandomPassword, and answers
`Ref` with the secret's ARN, as CloudFormation does.

And one setting: moto's ECS tasks never stop by themselves; each DescribeTasks
moves them one step towards STOPPED (exit code 0), so `before_deploy` can be
waited for. Nothing else is changed: in particular `--template-url`
needs no fix, since moto's CreateChangeSet reads a
`https://<bucket>.s3.<region>.amazonaws.com/<key>` URL from its own S3 (the
bucket is the host's first label), which is where `berth apply` uploads
templates above CloudFormation's 51,200-byte inline limit. Usage: the same arguments as `moto_server`.
"""
import ipaddress
import sys

from moto.cloudformation import parsing
from moto.cloudformation.models import CloudFormationBackend
from moto.core.common_models import CloudFormationModel
from moto.ecs.models import ecs_backends
from moto.moto_api import state_manager
from moto.rds.models import DBInstance, MasterUserSecret
from moto.secretsmanager.models import secretsmanager_backends
from moto.server import main

_execute = CloudFormationBackend.execute_change_set


def _change_set(backend, name):
    """The change set moto's own execute_change_set picks: by ARN, else the last of that name."""
    if name in backend.change_sets:
        return backend.change_sets[name]
    found = [c for c in backend.change_sets.values() if c.change_set_name == name]
    return found[-1] if found else None


def execute_change_set(self, change_set_name, stack_name=None):
    change_set = _change_set(self, change_set_name)
    stack = self.stacks.get(change_set.stack_id) if change_set else None
    if stack is not None:
        # Let Fn::ImportValue see the exports of every other stack.
        stack.cross_stack_resources = self.exports
        stack.resource_map.cross_stack_resources = self.exports
    _execute(self, change_set_name, stack_name)
    if stack is not None:
        for export in stack.exports:
            self.exports.pop(export.name, None)
        stack._parse_template()
        stack.output_map = stack._create_output_map()
        for export in stack.exports:
            self.exports[export.name] = export


CloudFormationBackend.execute_change_set = execute_change_set


def _lower(value):
    """CloudFormation's `ManagedScaling` → the API's `managedScaling`, recursively."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: _lower(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower(v) for v in value]
    return value


class CfnCapacityProvider(CloudFormationModel):
    __module__ = "moto.ecs.models"  # moto's model registry keys models by service module

    def __init__(self, name):
        self.physical_resource_id = name

    @staticmethod
    def cloudformation_name_type():
        return "Name"

    @staticmethod
    def cloudformation_type():
        return "AWS::ECS::CapacityProvider"

    @classmethod
    def has_cfn_attr(cls, attr):
        return False

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json.get("Properties", {})
        asg = _lower(props.get("AutoScalingGroupProvider", {}))
        tags = _lower(props.get("Tags", []))
        ecs_backends[account_id][region_name].create_capacity_provider(resource_name, asg, tags)
        return cls(resource_name)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        ecs_backends[account_id][region_name].capacity_providers.pop(resource_name, None)

    def is_created(self):
        return True


class CfnClusterCapacityProviderAssociations(CloudFormationModel):
    __module__ = "moto.ecs.models"

    def __init__(self, cluster):
        self.physical_resource_id = cluster

    @staticmethod
    def cloudformation_name_type():
        return ""

    @staticmethod
    def cloudformation_type():
        return "AWS::ECS::ClusterCapacityProviderAssociations"

    @classmethod
    def has_cfn_attr(cls, attr):
        return False

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json.get("Properties", {})
        ecs_backends[account_id][region_name].put_cluster_capacity_providers(
            props["Cluster"], props.get("CapacityProviders", []), _lower(props.get("DefaultCapacityProviderStrategy", []))
        )
        return cls(props["Cluster"])

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        pass

    def is_created(self):
        return True

class CfnSecret(CloudFormationModel):
    __module__ = "moto.secretsmanager.models"

    def __init__(self, arn):
        self.physical_resource_id = arn

    @staticmethod
    def cloudformation_name_type():
        return "Name"

    @staticmethod
    def cloudformation_type():
        return "AWS::SecretsManager::Secret"

    @classmethod
    def has_cfn_attr(cls, attr):
        return False

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        import json

        props = cloudformation_json.get("Properties", {})
        backend = secretsmanager_backends[account_id][region_name]
        value = props.get("SecretString")
        generate = props.get("GenerateSecretString")
        if generate is not None:
            flag = lambda key: str(generate.get(key, False)).lower() == "true"
            value = json.loads(backend.get_random_password(
                password_length=int(generate.get("PasswordLength", 32)),
                exclude_characters=generate.get("ExcludeCharacters", ""),
                exclude_numbers=flag("ExcludeNumbers"),
                exclude_punctuation=flag("ExcludePunctuation"),
                exclude_uppercase=flag("ExcludeUppercase"),
                exclude_lowercase=flag("ExcludeLowercase"),
                include_space=flag("IncludeSpace"),
                require_each_included_type=str(generate.get("RequireEachIncludedType", True)).lower() == "true",
            ))["RandomPassword"]
        secret, _ = backend._add_secret(
            props.get("Name", resource_name),
            secret_string=value,
            description=props.get("Description"),
            tags=props.get("Tags"),
        )
        return cls(secret.arn)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        pass

    def is_created(self):
        return True


_get_cfn_attribute = DBInstance.get_cfn_attribute


def get_cfn_attribute(self, attribute_name):
    if attribute_name == "MasterUserSecret.SecretArn":
        if getattr(self, "master_user_secret", None) is None:
            self.master_user_secret = MasterUserSecret(self, None)
        return self.master_user_secret.secret.arn
    return _get_cfn_attribute(self, attribute_name)


DBInstance.get_cfn_attribute = get_cfn_attribute

_clean_json = parsing.clean_json


def clean_json(resource_json, resources_map):
    if isinstance(resource_json, dict) and "Fn::Cidr" in resource_json:
        block, count, bits = (_clean_json(v, resources_map) for v in resource_json["Fn::Cidr"])
        network = ipaddress.ip_network(block)
        subnets = network.subnets(new_prefix=network.max_prefixlen - int(bits))
        return [str(next(subnets)) for _ in range(int(count))]
    return _clean_json(resource_json, resources_map)


parsing.clean_json = clean_json  # the module's recursive calls go through this name

state_manager.set_transition(model_name="ecs::task", transition={"progression": "manual", "times": 1})

if __name__ == "__main__":
    sys.exit(main())
