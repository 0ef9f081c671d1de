"""Strict local fakes ("contract servers") of the cloud APIs poolscale's
providers talk to: Exoscale API v2 instance pools (exoscale.py) and AWS EC2
Auto Scaling + EC2 DescribeInstances over the Query API (aws.py).

Tests start them with contract.common.start_server(kind, tmp_path, **opts)
or the contract_server fixture; see common.py for the helper API."""
