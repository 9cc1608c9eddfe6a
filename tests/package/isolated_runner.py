"""Run one Lambda handler from its code root and the layer alone (executed by ``python -I -S``).

Argument: a JSON file {"code_root", "layer", "handler", "event"}. Prints one line
``RESULT <json>``: the handler's answer (or the error it raised) and the files the key modules
were loaded from. Only the standard library is used before the two folders are on ``sys.path``.
"""

import importlib
import json
import sys
import traceback

MARKER = "RESULT "


class LambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    function_name = "packaged-function"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:ap-south-1:123456789012:function:packaged-function"
    aws_request_id = "00000000-0000-0000-0000-000000000001"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as handle:
        job = json.load(handle)
    inherited = list(sys.path)
    sys.path[:0] = [job["code_root"], job["layer"]]
    module_name, _, attribute = job["handler"].rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute)
    try:
        answer = {"result": handler(job["event"], LambdaContext())}
    except Exception as exc:
        answer = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    probes = ("pydantic_core", "jwt", "cryptography", "aws_xray_sdk", "aws_lambda_powertools", "boto3", "botocore", "common")
    answer["origins"] = {name: importlib.import_module(name).__file__ for name in probes}
    answer["loaded"] = sorted({getattr(m, "__file__", None) or "" for m in list(sys.modules.values())} - {""})
    answer["inherited_path"] = inherited
    print(MARKER + json.dumps(answer, default=str), flush=True)


if __name__ == "__main__":
    main()
