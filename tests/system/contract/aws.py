#!/usr/bin/python3
"""Strict local fake of AWS EC2 Auto Scaling (awsQuery, 2011-01-01) and EC2
DescribeInstances (ec2Query, 2016-11-15), signed with SigV4 (contract
server).  Facts from ../shared/reference/aws-autoscaling.md (sections cited
as [ref N]); where the reference is silent the choice made here is marked
CHOICE.

Usage
-----
  /usr/bin/python3 tests/system/contract/aws.py [--port 0] [--port-file F]
      [--access-key AK --secret-key SK] [--session-token T]
      [--region eu-west-1] [--group web-asg] [--min 0 --max 10 --size N]
      [--public-ip] [--account 123456789012] [--instance-type t3.micro]
      [--terminated-visible-s 10]
      [--boot-s 1.0] [--terminate-s 0.5] [--address-base 127.0.2.1]
      [--spawn JSON_ARGV] [--log-dir DIR] [--clock-offset-s 0]
Shared options, the pool model, the admin API (/_admin/...) and the test
helper are in common.py.  Defaults: access key AKIDEXAMPLE, secret
wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY (the vectors' credentials), no
session token.

Transport [ref 1]
---------
One server answers both services.  The service is the one in the SigV4
credential scope ("autoscaling" or "ec2"); the Action must belong to it:
  autoscaling: DescribeAutoScalingGroups, SetDesiredCapacity,
               TerminateInstanceInAutoScalingGroup   (Version=2011-01-01)
  ec2:         DescribeInstances                     (Version=2016-11-15)
Requests: POST / with Content-Type application/x-www-form-urlencoded (with
or without "; charset=utf-8") and the parameters in the body (no query
string), or GET / with the parameters in the query string (no body).
Form/query values are percent-decoded with '+' = space.

SigV4 checks [ref 8], in this order (then faults, then the action):
  no Authorization header            403 MissingAuthenticationToken
  not "AWS4-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=.." (the
    three parts, any order, ", " or "," between them), several headers,
    Credential not 5 '/'-separated parts        400 IncompleteSignature
  unknown access key                 403 InvalidClientTokenId
  no X-Amz-Date header or not YYYYMMDD'T'HHMMSS'Z', SignedHeaders not
    lower-case/sorted/unique, host or x-amz-date not in SignedHeaders, a
    signed header absent from the request       400 IncompleteSignature
  --session-token set and X-Amz-Security-Token missing/different/unsigned,
    or not set and the header present           403 InvalidClientTokenId
  scope: terminator not aws4_request, service not autoscaling/ec2,
    region != --region, date != X-Amz-Date's day  403 SignatureDoesNotMatch
  signature mismatch (canonical request rebuilt from the received method,
    path, the decoded query re-encoded the SigV4 way, the received values
    of the signed headers -- so the Host signed must be the Host received --,
    SHA-256 of the raw body; hmac.compare_digest)
                                     403 SignatureDoesNotMatch
  X-Amz-Date more than 15 min from the server clock (time.time() +
    --clock-offset-s), past or future          400 RequestExpired
Auth errors use the shape of the scope's service when it is valid, else of
the Action's service, else autoscaling's.

Error shapes [ref 7]: autoscaling
  <ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">
  <Error><Type>Sender|Receiver</Type><Code/><Message/></Error><RequestId/>
  </ErrorResponse>;
ec2: <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/>
</Response>.  Content-Type text/xml; header x-amzn-RequestId.

Strictness (400 unless said):
  autoscaling: unknown parameter -> ValidationError "Unknown parameter: X"
  (CHOICE); a required parameter missing -> ValidationError "1 validation
  error detected: Value null at 'desiredCapacity' failed to satisfy
  constraint: Member must not be null"; bad integer/boolean (booleans are
  exactly "true"/"false") -> ValidationError.  ec2: unknown parameter ->
  UnknownParameter "The parameter X is not recognized".  Both: a parameter
  given twice -> ValidationError/InvalidParameterValue; list indices must be
  1..N without gaps (CHOICE, catches 0-based lists); missing Action ->
  MissingAction; unknown Action or one of the other service -> InvalidAction;
  missing Version -> MissingParameter, wrong Version -> InvalidAction;
  POST with another Content-Type or with a query string, GET with a body ->
  ValidationError/InvalidParameterValue (CHOICE); path other than "/" -> 404
  code NotFound (CHOICE).

Actions and modelling
---------------------
- DescribeAutoScalingGroups [ref 3]: AutoScalingGroupNames.member.N
  (optional; none = all groups, i.e. the one), MaxRecords (1..100),
  NextToken (never issued, so always InvalidNextToken); Filters.* is
  rejected (CHOICE: not modelled).  An unknown name gives an empty
  <AutoScalingGroups/>.  The group: AutoScalingGroupName, ARN, MinSize,
  MaxSize, DesiredCapacity, DefaultCooldown 300, AvailabilityZones (<region>a,
  <region>b), LoadBalancerNames, TargetGroupARNs (empty), HealthCheckType EC2,
  HealthCheckGracePeriod 300, Instances, CreatedTime, SuspendedProcesses,
  EnabledMetrics (empty), TerminationPolicies Default,
  NewInstancesProtectedFromScaleIn false.  Instances: InstanceId ("i-" + 17
  hex), InstanceType, AvailabilityZone (alternating), LifecycleState Pending
  (booting, --boot-s) -> InService -> Terminating (--terminate-s after
  removal, then not listed), HealthStatus Healthy, ProtectedFromScaleIn
  false.  DesiredCapacity counts the non-terminating members.
- SetDesiredCapacity [ref 4]: AutoScalingGroupName, DesiredCapacity,
  optional HonorCooldown (validated, CHOICE: cooldowns not modelled, never
  blocks).  Unknown group -> ValidationError "AutoScalingGroup name not
  found - AutoScalingGroup 'X' not found".  Outside [min,max] ->
  ValidationError "New SetDesiredCapacity value N is above max value M for
  the AutoScalingGroup." / "... is below min value M ...".  Growing
  launches members at once (Pending); shrinking terminates the NEWEST
  members at once (CHOICE: AWS's default termination policy is not
  modelled).  Same value: accepted, counted as a mutation, no change.
  Reply: empty SetDesiredCapacityResponse with ResponseMetadata.
- TerminateInstanceInAutoScalingGroup [ref 5]: InstanceId (<= 19 chars),
  ShouldDecrementDesiredCapacity (required).  true: desired - 1 (refused
  with ValidationError "Currently, desiredSize equals minSize (M).
  Terminating instance without replacement will violate group's min size
  constraint. ..." when that would go below min); false: a replacement is
  launched at once.  Unknown instance, or one already Terminating (CHOICE)
  -> ValidationError "Instance Id not found - No managed instance found for
  instance ID: i-...".  Reply: an Activity (ActivityId, AutoScalingGroupName,
  Description "Terminating EC2 instance: i-...", Cause, StartTime,
  StatusCode InProgress, Progress 0).
- DescribeInstances [ref 6]: InstanceId.N, Filter.N.Name + Filter.N.Value.M
  (names: tag:aws:autoscaling:groupName, instance-state-name, instance-id,
  private-ip-address; values may use the * and ? wildcards; other names ->
  InvalidParameterValue "The filter 'X' is invalid"), MaxResults (5..1000,
  not with InstanceId -> InvalidParameterCombination; pages carry
  <nextToken>), NextToken (only ours, else InvalidPaginationToken),
  DryRun (true -> 412 DryRunOperation).  An id that is not "i-" + 8 or 17
  hex -> InvalidInstanceID.Malformed; an unknown one ->
  InvalidInstanceID.NotFound "The instance ID 'i-...' does not exist" (IDs
  plural when several).  One reservationSet item per instance.  Each item:
  instanceId, imageId, instanceState {code,name}: pending 0 (booting),
  running 16, shutting-down 32 (terminating), terminated 48 (gone: still
  listed for --terminated-visible-s, like EC2 keeps terminated instances
  visible, with no privateIpAddress/ipAddress), privateDnsName
  (ip-a-b-c-d.<region>.compute.internal), dnsName, instanceType,
  launchTime, placement/availabilityZone, privateIpAddress = the member
  address, ipAddress = 203.0.113.N only with --public-ip, tagSet with
  aws:autoscaling:groupName = the group.
- Fault bodies (admin API): autoscaling 400/429 -> Throttling "Rate
  exceeded" (Sender), 500 -> InternalFailure, 503 -> ServiceUnavailable,
  other 4xx ValidationError, 5xx InternalFailure; ec2 400/429 ->
  RequestLimitExceeded "Request limit exceeded.", 500 -> InternalError,
  503 -> Unavailable, other 4xx InvalidParameterValue, 5xx InternalError.
  "code"/"message" override; no Retry-After unless "retry_after" is given.
  Throttling as AWS answers it (HTTP 400, code Throttling or
  RequestLimitExceeded): a status 400 fault with "every" (every K-th
  request) or "rate"/"burst" (a token bucket), see common.py.
- POST /_admin/group {"min": M, "max": X} (either or both): changes the
  group's bounds as UpdateAutoScalingGroup does; a desired capacity
  outside the new bounds moves to the nearest one at once (AWS's implicit
  SetDesiredCapacity).  Reply {"ok": true, "min", "max", "size"}; min > max
  or a negative bound -> 400.
"""
import argparse
import calendar
import hashlib
import hmac
import json
import os
import re
import secrets
import sys
import time
import urllib.parse
import uuid
from xml.sax.saxutils import escape

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from contract import common  # noqa: E402

DEFAULT_ACCESS_KEY = "AKIDEXAMPLE"
DEFAULT_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
ASG_NS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"
EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
ACTIONS = {"DescribeAutoScalingGroups": "autoscaling", "SetDesiredCapacity": "autoscaling",
           "TerminateInstanceInAutoScalingGroup": "autoscaling", "DescribeInstances": "ec2"}
VERSIONS = {"autoscaling": "2011-01-01", "ec2": "2016-11-15"}
FORM_CT = "application/x-www-form-urlencoded; charset=utf-8"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
INSTANCE_ID_RE = re.compile(r"i-(?:[0-9a-f]{8}|[0-9a-f]{17})")
AMZ_DATE_RE = re.compile(r"\d{8}T\d{6}Z")
MAX_SKEW_S = 15 * 60


# ---------------------------------------------------------------- SigV4

def uri_encode(s):
    """RFC 3986 encoding: A-Z a-z 0-9 - _ . ~ kept, the rest %XX upper-case."""
    return urllib.parse.quote(s, safe="")


def canonical_uri(path):
    return "/".join(uri_encode(seg) for seg in path.split("/")) or "/"


def canonical_query(pairs):
    enc = sorted((uri_encode(k), uri_encode(v)) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in enc)


def _norm_value(v):
    return re.sub(r" +", " ", v.strip())


def canonical_request(method, path, query_pairs, headers, signed, payload_hash):
    """headers: {lower-case name: value}; signed: sorted lower-case names."""
    block = "".join(f"{n}:{_norm_value(headers[n])}\n" for n in signed)
    return "\n".join([method, canonical_uri(path), canonical_query(query_pairs), block,
                      ";".join(signed), payload_hash])


def signing_key(secret_key, datestamp, region, service):
    k = hmac.new(("AWS4" + secret_key).encode(), datestamp.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def string_to_sign(amz_date, scope, creq):
    return "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                      hashlib.sha256(creq.encode()).hexdigest()])


def sigv4_sign(method, path, query_pairs, headers, body, amz_date, region, service,
               access_key, secret_key, session_token=None):
    """Signs a request the way botocore / @smithy/signature-v4 do.
    path: decoded URL path ("/"); query_pairs: decoded (name, value) pairs;
    headers: the headers to send, all signed (must include Host); body:
    bytes/str.  Adds X-Amz-Date (and X-Amz-Security-Token).  Returns a dict:
    canonical_request, string_to_sign, signing_key (hex), signature,
    authorization, signed_headers, headers (to send, Authorization included)."""
    if isinstance(body, str):
        body = body.encode()
    send = dict(headers)
    send["X-Amz-Date"] = amz_date
    if session_token:
        send["X-Amz-Security-Token"] = session_token
    lower = {k.lower(): v for k, v in send.items()}
    signed = sorted(lower)
    creq = canonical_request(method, path, query_pairs, lower, signed,
                             hashlib.sha256(body or b"").hexdigest())
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    sts = string_to_sign(amz_date, scope, creq)
    key = signing_key(secret_key, amz_date[:8], region, service)
    sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    auth = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
            f"SignedHeaders={';'.join(signed)}, Signature={sig}")
    send["Authorization"] = auth
    return {"canonical_request": creq, "string_to_sign": sts, "signing_key": key.hex(),
            "signature": sig, "authorization": auth, "signed_headers": ";".join(signed),
            "headers": send}


def amz_date_of(t):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))


def iso_ms(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


# ---------------------------------------------------------------- service

class AwsError(Exception):
    def __init__(self, status, code, message, why=""):
        super().__init__(message)
        self.status, self.code, self.message, self.why = status, code, message, why


def _el(name, value):
    return f"<{name}>{escape(str(value))}</{name}>"


def _list(name, items, item="member"):
    if not items:
        return f"<{name}/>"
    return f"<{name}>" + "".join(f"<{item}>{x}</{item}>" for x in items) + f"</{name}>"


def _wildcard(pattern):
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                              for c in pattern), re.S)


class Aws(common.Service):
    kind = "aws"

    @staticmethod
    def new_id():
        return "i-" + secrets.token_hex(9)[:17]

    @staticmethod
    def name_of(args):
        return lambda i: f"{args.group}-{i:03d}"

    def __init__(self, args, pool):
        super().__init__(args, pool)
        self.created = time.time()
        self.group_uuid = str(uuid.uuid4())
        self.azs = [args.region + "a", args.region + "b"]

    # -- views
    def member_state(self, m, phase):
        return {"booting": "Pending", "running": "InService",
                "terminating": "Terminating"}.get(phase, "Terminated")

    def ec2_state(self, phase):
        return {"booting": (0, "pending"), "running": (16, "running"),
                "terminating": (32, "shutting-down")}.get(phase, (48, "terminated"))

    def az(self, m):
        return self.azs[(m.index - 1) % len(self.azs)]

    def extra_state(self):
        a = self.args
        return {"group": a.group, "min": a.min, "max": a.max, "region": a.region,
                "terminated": [{"id": m.id, "address": m.address} for m in self.pool.gone]}

    def admin(self, method, path, body):
        if path != "/_admin/group" or method != "POST":
            return None
        spec = json.loads(body or b"null")
        if not isinstance(spec, dict) or not spec or set(spec) - {"min", "max"}:
            raise common.AdminError('body must be {"min": M, "max": X} (either or both)')
        for k, v in spec.items():
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise common.AdminError(f"{k} must be an integer >= 0")
        a, pool = self.args, self.pool
        with pool.lock:
            lo, hi = spec.get("min", a.min), spec.get("max", a.max)
            if lo > hi:
                raise common.AdminError(f"min {lo} is above max {hi}")
            a.min, a.max = lo, hi
            if not lo <= pool.size <= hi:
                pool.scale_to(min(max(pool.size, lo), hi))
            common.log(f"aws: group bounds now [{lo}, {hi}], size {pool.size}")
            return {"ok": True, "min": lo, "max": hi, "size": pool.size}

    # -- replies
    def error(self, service, status, code, message, why=""):
        rid = str(uuid.uuid4())
        if service == "ec2":
            body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
                    f"{_el('Code', code)}{_el('Message', message)}</Error></Errors>"
                    f"{_el('RequestID', rid)}</Response>")
        else:
            typ = "Receiver" if status >= 500 else "Sender"
            body = (f'<ErrorResponse xmlns="{ASG_NS}"><Error>{_el("Type", typ)}'
                    f"{_el('Code', code)}{_el('Message', message)}</Error>"
                    f"{_el('RequestId', rid)}</ErrorResponse>")
        return common.Reply(status, body.encode(), "text/xml", [("x-amzn-RequestId", rid)],
                            why or f"{code}: {message}")

    def ok(self, service, action, inner):
        rid = str(uuid.uuid4())
        if service == "ec2":
            body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<{action}Response xmlns="{EC2_NS}">'
                    f"{_el('requestId', rid)}{inner}</{action}Response>")
        else:
            result = f"<{action}Result>{inner}</{action}Result>" if inner is not None else ""
            body = (f'<{action}Response xmlns="{ASG_NS}">{result}'
                    f"<ResponseMetadata>{_el('RequestId', rid)}</ResponseMetadata></{action}Response>")
        return common.Reply(200, body.encode(), "text/xml", [("x-amzn-RequestId", rid)])

    def fault_reply(self, req, fault):
        st = fault["status"]
        svc = self.shape(req)
        if svc == "ec2":
            table = {400: ("RequestLimitExceeded", "Request limit exceeded."),
                     429: ("RequestLimitExceeded", "Request limit exceeded."),
                     500: ("InternalError", "An internal error has occurred"),
                     503: ("Unavailable", "The server is overloaded and can't handle the request.")}
            dflt = ("InternalError", "An internal error has occurred") if st >= 500 else \
                ("InvalidParameterValue", "Injected fault")
        else:
            table = {400: ("Throttling", "Rate exceeded"), 429: ("Throttling", "Rate exceeded"),
                     500: ("InternalFailure", "An internal error occurred."),
                     503: ("ServiceUnavailable", "Service is unavailable.")}
            dflt = ("InternalFailure", "An internal error occurred.") if st >= 500 else \
                ("ValidationError", "Injected fault")
        code, msg = table.get(st, dflt)
        r = self.error(svc, st, fault.get("code", code), fault.get("message", msg))
        if fault.get("retry_after") is not None:
            r.headers.append(("Retry-After", str(fault["retry_after"])))
        return r

    def internal_error(self, req):
        svc = self.shape(req)
        if svc == "ec2":
            return self.error(svc, 500, "InternalError", "An internal error has occurred")
        return self.error(svc, 500, "InternalFailure", "An internal error occurred.")

    def shape(self, req):
        return getattr(req, "service", None) or ACTIONS.get(req.action) or "autoscaling"

    # -- parameters and authentication
    def prepare(self, req):
        req.service = None
        req.pairs, req.param_error = [], None
        try:
            if req.method == "GET":
                src = req.query
            else:
                src = req.body.decode("utf-8")
            req.pairs = urllib.parse.parse_qsl(src, keep_blank_values=True, errors="strict")
        except (UnicodeDecodeError, ValueError) as e:
            req.param_error = f"parameters not decodable: {e}"
        actions = [v for k, v in req.pairs if k == "Action"]
        req.action = actions[0] if actions else ""
        try:
            self.authenticate(req)
            req.auth = "ok"
        except AwsError as e:
            req.reject = self.error(self.shape(req), e.status, e.code, e.message, e.why)

    def authenticate(self, req):
        values = req.headers.get_all("Authorization") or []
        if not values:
            req.auth = "none"
            raise AwsError(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
        req.auth = "bad"

        def incomplete(why, msg=None):
            return AwsError(400, "IncompleteSignature", msg or why, why)
        if len(values) != 1:
            raise incomplete("several Authorization headers")
        value = values[0]
        if not value.startswith("AWS4-HMAC-SHA256 "):
            raise incomplete(f"Unsupported AWS 'algorithm': {value.split(' ')[0]!r}")
        parts = {}
        for p in value[len("AWS4-HMAC-SHA256 "):].split(","):
            k, sep, v = p.strip().partition("=")
            if not sep or k in parts:
                raise incomplete(f"malformed Authorization header {value!r}",
                                 f"Authorization header requires 'Credential', 'Signature' and "
                                 f"'SignedHeaders' parameters. Authorization={value}")
            parts[k] = v
        if set(parts) != {"Credential", "SignedHeaders", "Signature"}:
            raise incomplete(f"Authorization header parts {sorted(parts)}",
                             "Authorization header requires 'Credential', 'Signature' and "
                             f"'SignedHeaders' parameters. Authorization={value}")
        cred = parts["Credential"].split("/")
        if len(cred) != 5:
            raise incomplete(f"malformed Credential {parts['Credential']!r}")
        ak, datestamp, region, service, term = cred
        if ak != self.args.access_key:
            raise AwsError(403, "InvalidClientTokenId",
                           "The security token included in the request is invalid.",
                           f"unknown access key {ak!r}")
        if service in VERSIONS:
            req.service = service
        dates = req.headers.get_all("X-Amz-Date") or []
        if len(dates) != 1:
            raise incomplete("no X-Amz-Date header",
                             "Authorization header requires existence of either a 'X-Amz-Date' "
                             "or a 'Date' header. Authorization=" + value)
        amz_date = dates[0].strip()
        if not AMZ_DATE_RE.fullmatch(amz_date):
            raise incomplete(f"X-Amz-Date {amz_date!r} not in ISO 8601 basic format",
                             "Date must be in ISO-8601 'basic format'. Got '%s'." % amz_date)
        try:
            t = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
        except ValueError:
            raise incomplete(f"X-Amz-Date {amz_date!r} not a date")
        signed = parts["SignedHeaders"].split(";")
        if signed != sorted(set(signed)) or any(n != n.lower() or not n for n in signed):
            raise incomplete(f"SignedHeaders {parts['SignedHeaders']!r} not sorted, unique, lower-case")
        if "host" not in signed:
            raise incomplete("host not signed",
                             "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
        if "x-amz-date" not in signed:
            raise incomplete("x-amz-date not signed",
                             "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.")
        hv = {}
        for n in signed:
            got = req.headers.get_all(n)
            if not got:
                raise incomplete(f"signed header {n} absent from the request")
            hv[n] = ",".join(_norm_value(x) for x in got)
        tokens = req.headers.get_all("X-Amz-Security-Token") or []
        want_token = self.args.session_token
        if want_token:
            if len(tokens) != 1 or tokens[0] != want_token or "x-amz-security-token" not in signed:
                raise AwsError(403, "InvalidClientTokenId",
                               "The security token included in the request is invalid.",
                               "session token missing, wrong or unsigned")
        elif tokens:
            raise AwsError(403, "InvalidClientTokenId",
                           "The security token included in the request is invalid.",
                           "session token sent but none configured")
        if term != "aws4_request":
            raise AwsError(403, "SignatureDoesNotMatch", "Credential should be scoped with a valid "
                           f"terminator: 'aws4_request', not '{term}'.")
        if service not in VERSIONS:
            raise AwsError(403, "SignatureDoesNotMatch", "Credential should be scoped to correct "
                           f"service: 'autoscaling' or 'ec2', not '{service}'.")
        if region != self.args.region:
            raise AwsError(403, "SignatureDoesNotMatch", "Credential should be scoped to a valid "
                           f"region, not '{region}'.")
        if datestamp != amz_date[:8]:
            raise AwsError(403, "SignatureDoesNotMatch", "Date in Credential scope does not match "
                           f"YYYYMMDD from ISO-8601 version of date from HTTP: '{datestamp}' != "
                           f"'{amz_date[:8]}', from '{amz_date}'.")
        try:
            qpairs = urllib.parse.parse_qsl(req.query, keep_blank_values=True, errors="strict")
            path = urllib.parse.unquote(req.path, errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise incomplete("query string or path not decodable")
        creq = canonical_request(req.method, path, qpairs, hv, signed,
                                 hashlib.sha256(req.body).hexdigest())
        scope = f"{datestamp}/{region}/{service}/aws4_request"
        sts = string_to_sign(amz_date, scope, creq)
        key = signing_key(self.args.secret_key, datestamp, region, service)
        expected = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), parts["Signature"].encode()):
            raise AwsError(403, "SignatureDoesNotMatch",
                           "The request signature we calculated does not match the signature you "
                           "provided. Check your AWS Secret Access Key and signing method. Consult "
                           "the service documentation for details.",
                           "signature mismatch; canonical request was " + json.dumps(creq))
        now = self.clock()
        if abs(t - now) > MAX_SKEW_S:
            raise AwsError(400, "RequestExpired", "Request has expired.",
                           f"X-Amz-Date {amz_date} is {int(t - now)} s from the server clock")

    # -- requests
    def execute(self, req):
        try:
            return self._execute(req)
        except AwsError as e:
            return self.error(self.shape(req), e.status, e.code, e.message, e.why)

    def _execute(self, req):
        svc = req.service
        ec2 = svc == "ec2"
        bad_param = "InvalidParameterValue" if ec2 else "ValidationError"
        if req.path != "/":
            raise AwsError(404, "NotFound", f"The resource {req.path} does not exist.")
        if req.method == "POST":
            ct = (req.headers.get("Content-Type") or "").strip()
            mt, _, params = ct.partition(";")
            if mt.strip().lower() != "application/x-www-form-urlencoded" or \
                    params.strip().lower() not in ("", "charset=utf-8"):
                raise AwsError(400, bad_param, "Content-Type must be "
                               f"application/x-www-form-urlencoded, not '{ct}'.")
            if req.query:
                raise AwsError(400, bad_param, "A POST request must carry its parameters in "
                               "the body, not in the query string.")
        elif req.method == "GET":
            if req.body:
                raise AwsError(400, bad_param, "A GET request must not have a body.")
        else:
            raise AwsError(400, bad_param, f"Method {req.method} is not supported.")
        if req.param_error:
            raise AwsError(400, bad_param, req.param_error)
        params = {}
        for k, v in req.pairs:
            if k in params:
                raise AwsError(400, bad_param, f"The parameter {k} is given more than once.")
            params[k] = v
        action = params.get("Action")
        if not action:
            raise AwsError(400, "MissingAction", "The request must contain the parameter Action.")
        version = params.get("Version")
        if ACTIONS.get(action) != svc:
            if ec2:
                raise AwsError(400, "InvalidAction", f"The action {action} is not valid for this "
                               "web service.")
            raise AwsError(400, "InvalidAction", f"Could not find operation {action} for version "
                           f"{version or VERSIONS[svc]}")
        if version is None:
            raise AwsError(400, "MissingParameter", "The request must contain the parameter Version.")
        if version != VERSIONS[svc]:
            raise AwsError(400, "InvalidAction", f"Could not find operation {action} for version "
                           f"{version}")
        return getattr(self, "do_" + action)(params)

    # -- parameter helpers
    @staticmethod
    def _allowed(params, patterns, ec2):
        for k in params:
            if k in ("Action", "Version"):
                continue
            if not any(re.fullmatch(p, k) for p in patterns):
                if ec2:
                    raise AwsError(400, "UnknownParameter", f"The parameter {k} is not recognized")
                raise AwsError(400, "ValidationError", f"Unknown parameter: {k}")

    @staticmethod
    def _indexed(params, rx, code):
        """{index: value} of parameters whose name fullmatches rx (one group:
        the 1-based index), checking the indices are 1..N."""
        out = {}
        for k, v in params.items():
            m = re.fullmatch(rx, k)
            if m:
                n = m.group(1)
                if n.startswith("0"):
                    raise AwsError(400, code, f"Invalid list index in parameter {k}")
                out[int(n)] = v
        if sorted(out) != list(range(1, len(out) + 1)):
            raise AwsError(400, code, f"List indices of {rx} must be 1..N without gaps, "
                           f"got {sorted(out)}")
        return out

    @staticmethod
    def _required(params, name, member):
        if name not in params:
            raise AwsError(400, "ValidationError", "1 validation error detected: Value null at "
                           f"'{member}' failed to satisfy constraint: Member must not be null")
        return params[name]

    @staticmethod
    def _int(value, member, code="ValidationError"):
        if not re.fullmatch(r"-?[0-9]{1,10}", value):
            raise AwsError(400, code, f"Value '{value}' at '{member}' failed to satisfy "
                           "constraint: Member must be an integer")
        return int(value)

    @staticmethod
    def _bool(value, member, code="ValidationError"):
        if value not in ("true", "false"):
            raise AwsError(400, code, f"Value '{value}' at '{member}' failed to satisfy "
                           "constraint: Member must be a boolean (true or false)")
        return value == "true"

    # -- autoscaling
    def group_xml(self):
        a = self.args
        pool = self.pool
        now = pool.now()
        insts = []
        for m in pool.members:
            insts.append(_el("InstanceId", m.id) + _el("InstanceType", a.instance_type)
                         + _el("AvailabilityZone", self.az(m))
                         + _el("LifecycleState", self.member_state(m, pool.phase(m, now)))
                         + _el("HealthStatus", "Healthy")
                         + _el("ProtectedFromScaleIn", "false"))
        arn = (f"arn:aws:autoscaling:{a.region}:{a.account}:autoScalingGroup:{self.group_uuid}"
               f":autoScalingGroupName/{a.group}")
        return ("<member>" + _el("AutoScalingGroupName", a.group) + _el("AutoScalingGroupARN", arn)
                + _el("MinSize", a.min) + _el("MaxSize", a.max)
                + _el("DesiredCapacity", pool.size) + _el("DefaultCooldown", 300)
                + _list("AvailabilityZones", [escape(z) for z in self.azs])
                + "<LoadBalancerNames/><TargetGroupARNs/>"
                + _el("HealthCheckType", "EC2") + _el("HealthCheckGracePeriod", 300)
                + _list("Instances", insts)
                + _el("CreatedTime", iso_ms(self.created))
                + "<SuspendedProcesses/><EnabledMetrics/>"
                + _list("TerminationPolicies", ["Default"])
                + _el("NewInstancesProtectedFromScaleIn", "false") + "</member>")

    def do_DescribeAutoScalingGroups(self, params):
        self._allowed(params, [r"AutoScalingGroupNames\.member\.\d+", "MaxRecords", "NextToken"],
                      False)
        names = self._indexed(params, r"AutoScalingGroupNames\.member\.(\d+)", "ValidationError")
        for n in names.values():
            if not 1 <= len(n) <= 255:
                raise AwsError(400, "ValidationError", f"Value '{n}' at 'autoScalingGroupNames' "
                               "failed to satisfy constraint: Member must have length between 1 "
                               "and 255")
        if "MaxRecords" in params:
            mr = self._int(params["MaxRecords"], "maxRecords")
            if not 1 <= mr <= 100:
                raise AwsError(400, "ValidationError", f"Value '{mr}' at 'maxRecords' failed to "
                               "satisfy constraint: Member must be between 1 and 100")
        if "NextToken" in params:
            raise AwsError(400, "InvalidNextToken", f"The token '{params['NextToken']}' is invalid.")
        groups = []
        if not names or self.args.group in names.values():
            groups.append(self.group_xml())
        return self.ok("autoscaling", "DescribeAutoScalingGroups",
                       "<AutoScalingGroups>" + "".join(groups) + "</AutoScalingGroups>"
                       if groups else "<AutoScalingGroups/>")

    def _group(self, params):
        name = self._required(params, "AutoScalingGroupName", "autoScalingGroupName")
        if name != self.args.group:
            raise AwsError(400, "ValidationError", "AutoScalingGroup name not found - "
                           f"AutoScalingGroup '{name}' not found")

    def do_SetDesiredCapacity(self, params):
        self._allowed(params, ["AutoScalingGroupName", "DesiredCapacity", "HonorCooldown"], False)
        self._group(params)
        dc = self._int(self._required(params, "DesiredCapacity", "desiredCapacity"), "desiredCapacity")
        if "HonorCooldown" in params:
            self._bool(params["HonorCooldown"], "honorCooldown")
        a = self.args
        if dc > a.max:
            raise AwsError(400, "ValidationError", f"New SetDesiredCapacity value {dc} is above "
                           f"max value {a.max} for the AutoScalingGroup.")
        if dc < a.min:
            raise AwsError(400, "ValidationError", f"New SetDesiredCapacity value {dc} is below "
                           f"min value {a.min} for the AutoScalingGroup.")
        old = self.pool.size
        self.pool.scale_to(dc)
        self.pool.mutations += 1
        r = self.ok("autoscaling", "SetDesiredCapacity", None)
        r.why = f"desired {old} -> {dc}"
        return r

    def do_TerminateInstanceInAutoScalingGroup(self, params):
        self._allowed(params, ["InstanceId", "ShouldDecrementDesiredCapacity"], False)
        iid = self._required(params, "InstanceId", "instanceId")
        dec = self._bool(self._required(params, "ShouldDecrementDesiredCapacity",
                                        "shouldDecrementDesiredCapacity"),
                         "shouldDecrementDesiredCapacity")
        if not 1 <= len(iid) <= 19:
            raise AwsError(400, "ValidationError", f"1 validation error detected: Value '{iid}' at "
                           "'instanceId' failed to satisfy constraint: Member must have length "
                           "less than or equal to 19")
        pool = self.pool
        m = pool.find(iid)
        if m is None or m.removed is not None:
            raise AwsError(400, "ValidationError", "Instance Id not found - No managed instance "
                           f"found for instance ID: {iid}")
        a = self.args
        old = pool.size
        if dec and old - 1 < a.min:
            raise AwsError(400, "ValidationError", f"Currently, desiredSize equals minSize "
                           f"({a.min}). Terminating instance without replacement will violate "
                           "group's min size constraint. Either set shouldDecrementDesiredCapacity "
                           "flag to false or lower group's min size.")
        pool.remove(m)
        if dec:
            pool.size -= 1
        else:
            pool.launch()
        pool.mutations += 1
        t = time.time()
        ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
        cause = f"At {ts} instance {iid} was taken out of service in response to a user request"
        cause += f", shrinking the capacity from {old} to {old - 1}." if dec else "."
        act = ("<Activity>" + _el("ActivityId", str(uuid.uuid4()))
               + _el("AutoScalingGroupName", a.group)
               + _el("Description", f"Terminating EC2 instance: {iid}") + _el("Cause", cause)
               + _el("StartTime", iso_ms(t)) + _el("StatusCode", "InProgress")
               + _el("Progress", 0) + "</Activity>")
        r = self.ok("autoscaling", "TerminateInstanceInAutoScalingGroup", act)
        r.why = f"{iid} terminating, desired {old} -> {pool.size}"
        return r

    # -- ec2
    def instance_xml(self, m, phase):
        a = self.args
        code, name = self.ec2_state(phase)
        gone = phase == "gone"
        dash = m.address.replace(".", "-")
        pub = f"203.0.113.{(m.index - 1) % 254 + 1}" if a.public_ip and not gone else None
        x = (_el("instanceId", m.id) + _el("imageId", "ami-0123456789abcdef0")
             + f"<instanceState>{_el('code', code)}{_el('name', name)}</instanceState>"
             + (_el("privateDnsName", f"ip-{dash}.{a.region}.compute.internal") if not gone
                else "<privateDnsName/>")
             + (_el("dnsName", f"ec2-{pub.replace('.', '-')}.{a.region}.compute.amazonaws.com")
                if pub else "<dnsName/>")
             + _el("amiLaunchIndex", 0) + _el("instanceType", a.instance_type)
             + _el("launchTime", iso_ms(m.created_wall))
             + f"<placement>{_el('availabilityZone', self.az(m))}<groupName/>"
               f"{_el('tenancy', 'default')}</placement>"
             + (_el("privateIpAddress", m.address) if not gone else "")
             + (_el("ipAddress", pub) if pub else "")
             + "<tagSet><item>" + _el("key", "aws:autoscaling:groupName") + _el("value", a.group)
             + "</item></tagSet>")
        rid = "r-" + hashlib.sha256(m.id.encode()).hexdigest()[:17]
        return ("<item>" + _el("reservationId", rid) + _el("ownerId", a.account) + "<groupSet/>"
                + "<instancesSet><item>" + x + "</item></instancesSet></item>")

    def do_DescribeInstances(self, params):
        self._allowed(params, [r"InstanceId\.\d+", r"Filter\.\d+\.Name", r"Filter\.\d+\.Value\.\d+",
                               "MaxResults", "NextToken", "DryRun"], True)
        ids = list(self._indexed(params, r"InstanceId\.(\d+)", "InvalidParameterValue").values())
        for i in ids:
            if not INSTANCE_ID_RE.fullmatch(i):
                raise AwsError(400, "InvalidInstanceID.Malformed", f'Invalid id: "{i}"')
        fnames = self._indexed(params, r"Filter\.(\d+)\.Name", "InvalidParameterValue")
        filters = []
        for n in sorted(fnames):
            vals = self._indexed(params, rf"Filter\.{n}\.Value\.(\d+)", "InvalidParameterValue")
            name = fnames[n]
            if name not in ("tag:aws:autoscaling:groupName", "instance-state-name",
                            "instance-id", "private-ip-address"):
                raise AwsError(400, "InvalidParameterValue", f"The filter '{name}' is invalid")
            if not vals:
                raise AwsError(400, "InvalidParameterValue", f"The filter '{name}' requires at "
                               "least one value")
            filters.append((name, [_wildcard(v) for v in vals.values()]))
        for k in params:
            m = re.fullmatch(r"Filter\.(\d+)\.Value\.\d+", k)
            if m and int(m.group(1)) not in fnames:
                raise AwsError(400, "InvalidParameterValue", f"The parameter {k} has no "
                               f"Filter.{m.group(1)}.Name")
        if "DryRun" in params and self._bool(params["DryRun"], "dryRun", "InvalidParameterValue"):
            raise AwsError(412, "DryRunOperation",
                           "Request would have succeeded, but DryRun flag is set.")
        max_results = None
        if "MaxResults" in params:
            if ids:
                raise AwsError(400, "InvalidParameterCombination", "The parameter instancesSet "
                               "cannot be used with the parameter maxResults")
            max_results = self._int(params["MaxResults"], "maxResults", "InvalidParameterValue")
            if not 5 <= max_results <= 1000:
                raise AwsError(400, "InvalidParameterValue", f"Value ( {max_results} ) for "
                               "parameter maxResults is invalid. Expecting a value between 5 "
                               "and 1000.")
        offset = 0
        if "NextToken" in params:
            m = re.fullmatch(r"fake-token-([0-9]{1,6})", params["NextToken"])
            if not m:
                raise AwsError(400, "InvalidPaginationToken", "Invalid pagination token")
            offset = int(m.group(1))
        pool = self.pool
        now = pool.now()
        cands = sorted(pool.members + pool.gone, key=lambda m: m.index)
        known = {m.id for m in cands}
        missing = [i for i in ids if i not in known]
        if len(missing) == 1:
            raise AwsError(400, "InvalidInstanceID.NotFound",
                           f"The instance ID '{missing[0]}' does not exist")
        if missing:
            raise AwsError(400, "InvalidInstanceID.NotFound",
                           f"The instance IDs '{', '.join(missing)}' do not exist")
        out = []
        for m in cands:
            ph = pool.phase(m, now)
            if ids and m.id not in ids:
                continue
            attrs = {"tag:aws:autoscaling:groupName": self.args.group,
                     "instance-state-name": self.ec2_state(ph)[1], "instance-id": m.id,
                     "private-ip-address": m.address if ph != "gone" else None}
            if all(attrs[name] is not None and any(rx.fullmatch(attrs[name]) for rx in rxs)
                   for name, rxs in filters):
                out.append((m, ph))
        token = ""
        if max_results is not None:
            page = out[offset:offset + max_results]
            if offset + max_results < len(out):
                token = _el("nextToken", f"fake-token-{offset + max_results}")
            out = page
        items = "".join(self.instance_xml(m, ph) for m, ph in out)
        rs = f"<reservationSet>{items}</reservationSet>" if items else "<reservationSet/>"
        return self.ok("ec2", "DescribeInstances", rs + token)


# ---------------------------------------------------------------- options

def build_parser():
    p = argparse.ArgumentParser(prog="aws.py", description="Strict fake of AWS EC2 Auto Scaling "
                                "+ EC2 DescribeInstances (Query API, SigV4).")
    common.add_common_args(p)
    p.add_argument("--access-key", default=DEFAULT_ACCESS_KEY)
    p.add_argument("--secret-key", default=DEFAULT_SECRET_KEY)
    p.add_argument("--session-token")
    p.add_argument("--region", default="eu-west-1")
    p.add_argument("--group", default="web-asg")
    p.add_argument("--min", type=int, default=0)
    p.add_argument("--max", type=int, default=10)
    p.add_argument("--public-ip", action="store_true")
    p.add_argument("--account", default="123456789012")
    p.add_argument("--instance-type", default="t3.micro")
    p.add_argument("--terminated-visible-s", type=float, default=10.0)
    return p


def parse_args(argv):
    p = build_parser()
    args = p.parse_args(argv)
    common.check_common_args(p, args)
    if not 0 <= args.min <= args.size <= args.max:
        p.error("need 0 <= --min <= --size <= --max")
    args.gone_ttl_s = args.terminated_visible_s
    return args


# ---------------------------------------------------------------- client

_SERVER_TOKEN = object()


def request(server, action, params=None, *, service=None, version=None, method="POST",
            access_key=None, secret_key=None, session_token=_SERVER_TOKEN, region=None,
            amz_date=None, host=None, headers=None, unsigned_headers=None, signed=True,
            content_type=FORM_CT, timeout=10.0):
    """A SigV4-signed Query API request to a running fake, with its
    credentials unless given.  action None leaves Action out; params: dict
    or list of pairs (values str; None skips); service defaults to the
    Action's; GET puts the parameters in the query string, POST in a form
    body (urlencode: space as '+', like botocore).  headers are signed,
    unsigned_headers are not.  Returns a common.HTTPReply."""
    args = server.args
    service = service or ACTIONS.get(action, "autoscaling")
    pairs = []
    if action is not None:
        pairs.append(("Action", action))
    if version is not False:
        pairs.append(("Version", version or VERSIONS.get(service, "2011-01-01")))
    items = params.items() if isinstance(params, dict) else (params or [])
    pairs += [(k, str(v)) for k, v in items if v is not None]
    encoded = urllib.parse.urlencode(pairs)
    h = {"Host": host or f"{server.host}:{server.port}"}
    if method == "GET":
        target, body, qpairs = "/?" + encoded, b"", pairs
    else:
        target, body, qpairs = "/", encoded.encode(), []
        if content_type:
            h["Content-Type"] = content_type
    h.update(headers or {})
    if session_token is _SERVER_TOKEN:
        session_token = args.session_token
    if signed:
        h = sigv4_sign(method, "/", qpairs, h, body, amz_date or amz_date_of(time.time()),
                       region or args.region, service, access_key or args.access_key,
                       secret_key or args.secret_key, session_token)["headers"]
    elif session_token:
        h["X-Amz-Security-Token"] = session_token
    h.update(unsigned_headers or {})
    return common.http_request(server.addr, method, target, body, h, timeout)


if __name__ == "__main__":
    common.script_main(Aws, parse_args)
