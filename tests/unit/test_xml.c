/* The XML reader: the AWS response samples (read the way a client reads
 * them), text decoding, and every way a document is refused, including every
 * truncation of every sample, each read bounded by a guard page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xml.h"
#include "guard.h"

/* The samples of ../shared/reference/aws-autoscaling.md, sections 3 to 7. */
static const char describe_asg[] =
	"<DescribeAutoScalingGroupsResponse xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">\n"
	"  <DescribeAutoScalingGroupsResult>\n"
	"    <AutoScalingGroups>\n"
	"      <member>\n"
	"        <AutoScalingGroupName>web-asg</AutoScalingGroupName>\n"
	"        <AutoScalingGroupARN>arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:11111111-2222-3333-4444-555555555555:autoScalingGroupName/web-asg</AutoScalingGroupARN>\n"
	"        <MinSize>1</MinSize>\n"
	"        <MaxSize>10</MaxSize>\n"
	"        <DesiredCapacity>2</DesiredCapacity>\n"
	"        <DefaultCooldown>300</DefaultCooldown>\n"
	"        <AvailabilityZones>\n"
	"          <member>eu-west-1a</member>\n"
	"          <member>eu-west-1b</member>\n"
	"        </AvailabilityZones>\n"
	"        <HealthCheckType>EC2</HealthCheckType>\n"
	"        <HealthCheckGracePeriod>300</HealthCheckGracePeriod>\n"
	"        <Instances>\n"
	"          <member>\n"
	"            <InstanceId>i-0123456789abcdef0</InstanceId>\n"
	"            <InstanceType>t3.micro</InstanceType>\n"
	"            <AvailabilityZone>eu-west-1a</AvailabilityZone>\n"
	"            <LifecycleState>InService</LifecycleState>\n"
	"            <HealthStatus>Healthy</HealthStatus>\n"
	"            <ProtectedFromScaleIn>false</ProtectedFromScaleIn>\n"
	"          </member>\n"
	"          <member>\n"
	"            <InstanceId>i-0fedcba9876543210</InstanceId>\n"
	"            <InstanceType>t3.micro</InstanceType>\n"
	"            <AvailabilityZone>eu-west-1b</AvailabilityZone>\n"
	"            <LifecycleState>Pending</LifecycleState>\n"
	"            <HealthStatus>Healthy</HealthStatus>\n"
	"            <ProtectedFromScaleIn>false</ProtectedFromScaleIn>\n"
	"          </member>\n"
	"        </Instances>\n"
	"        <CreatedTime>2015-08-30T12:00:00.000Z</CreatedTime>\n"
	"      </member>\n"
	"    </AutoScalingGroups>\n"
	"  </DescribeAutoScalingGroupsResult>\n"
	"  <ResponseMetadata>\n"
	"    <RequestId>7c6e177f-f082-11e1-ac58-3714bEXAMPLE</RequestId>\n"
	"  </ResponseMetadata>\n"
	"</DescribeAutoScalingGroupsResponse>";

static const char set_desired[] =
	"<SetDesiredCapacityResponse xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">\n"
	"  <ResponseMetadata>\n"
	"    <RequestId>9fbc7e1a-f082-11e1-ac58-3714bEXAMPLE</RequestId>\n"
	"  </ResponseMetadata>\n"
	"</SetDesiredCapacityResponse>";

static const char terminate[] =
	"<TerminateInstanceInAutoScalingGroupResponse xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">\n"
	"  <TerminateInstanceInAutoScalingGroupResult>\n"
	"    <Activity>\n"
	"      <ActivityId>cczc44a87-7d04-dd7a-8a4c-1d0c2fd9b8e1</ActivityId>\n"
	"      <AutoScalingGroupName>web-asg</AutoScalingGroupName>\n"
	"      <Description>Terminating EC2 instance: i-0123456789abcdef0</Description>\n"
	"      <Cause>At 2015-08-30T12:36:00Z instance i-0123456789abcdef0 was taken out of service in response to a user request, shrinking the capacity from 2 to 1.</Cause>\n"
	"      <StartTime>2015-08-30T12:36:00.000Z</StartTime>\n"
	"      <StatusCode>InProgress</StatusCode>\n"
	"      <Progress>0</Progress>\n"
	"    </Activity>\n"
	"  </TerminateInstanceInAutoScalingGroupResult>\n"
	"  <ResponseMetadata>\n"
	"    <RequestId>a1b2c3d4-f082-11e1-ac58-3714bEXAMPLE</RequestId>\n"
	"  </ResponseMetadata>\n"
	"</TerminateInstanceInAutoScalingGroupResponse>";

static const char describe_instances[] =
	"<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\n"
	"  <requestId>8f7724cf-496f-496e-8fe3-example</requestId>\n"
	"  <reservationSet>\n"
	"    <item>\n"
	"      <reservationId>r-1234567890abcdef0</reservationId>\n"
	"      <ownerId>123456789012</ownerId>\n"
	"      <groupSet/>\n"
	"      <instancesSet>\n"
	"        <item>\n"
	"          <instanceId>i-0123456789abcdef0</instanceId>\n"
	"          <instanceState>\n"
	"            <code>16</code>\n"
	"            <name>running</name>\n"
	"          </instanceState>\n"
	"          <privateDnsName>ip-10-0-1-23.eu-west-1.compute.internal</privateDnsName>\n"
	"          <dnsName>ec2-203-0-113-25.eu-west-1.compute.amazonaws.com</dnsName>\n"
	"          <instanceType>t3.micro</instanceType>\n"
	"          <launchTime>2015-08-30T12:00:00.000Z</launchTime>\n"
	"          <privateIpAddress>10.0.1.23</privateIpAddress>\n"
	"          <ipAddress>203.0.113.25</ipAddress>\n"
	"          <tagSet>\n"
	"            <item>\n"
	"              <key>aws:autoscaling:groupName</key>\n"
	"              <value>web-asg</value>\n"
	"            </item>\n"
	"          </tagSet>\n"
	"        </item>\n"
	"      </instancesSet>\n"
	"    </item>\n"
	"  </reservationSet>\n"
	"</DescribeInstancesResponse>";

static const char error_response[] =
	"<ErrorResponse xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">\n"
	"  <Error>\n"
	"    <Type>Sender</Type>\n"
	"    <Code>ScalingActivityInProgress</Code>\n"
	"    <Message>Scaling activity 1234 is in progress and blocks this action.</Message>\n"
	"  </Error>\n"
	"  <RequestId>b2c3d4e5-f082-11e1-ac58-3714bEXAMPLE</RequestId>\n"
	"</ErrorResponse>";

static const char ec2_error[] =
	"<Response>\n"
	"  <Errors>\n"
	"    <Error>\n"
	"      <Code>InvalidInstanceID.NotFound</Code>\n"
	"      <Message>The instance ID 'i-0123456789abcdef0' does not exist</Message>\n"
	"    </Error>\n"
	"  </Errors>\n"
	"  <RequestID>ea966190-f9aa-478e-9ede-example</RequestID>\n"
	"</Response>";

static const struct {
	const char *name, *doc;
} samples[] = {
	{ "describe_asg", describe_asg },
	{ "set_desired", set_desired },
	{ "terminate", terminate },
	{ "describe_instances", describe_instances },
	{ "error_response", error_response },
	{ "ec2_error", ec2_error },
};

/* Parses s from a copy that ends right before an unreadable page. */
static struct xml_node *parse_len(const char *s, size_t len, struct err *e)
{
	struct guarded g;
	struct xml_node *root;

	guard_copy(&g, s, len);
	root = xml_parse(g.p, len, e);
	guard_free(&g);
	return root;
}

static struct xml_node *parse(const char *s, struct err *e)
{
	return parse_len(s, strlen(s), e);
}

static void test_describe_asg(void **state)
{
	static const struct { const char *id, *lifecycle; } want[] = {
		{ "i-0123456789abcdef0", "InService" },
		{ "i-0fedcba9876543210", "Pending" },
	};
	struct err e = { "" };
	struct xml_node *root = parse(describe_asg, &e);
	const struct xml_node *groups, *g, *m;
	size_t n = 0;

	(void)state;
	assert_non_null(root);
	assert_string_equal(root->name, "DescribeAutoScalingGroupsResponse");
	groups = xml_path(root, "DescribeAutoScalingGroupsResult/AutoScalingGroups");
	assert_non_null(groups);
	g = xml_child(groups, "member");
	assert_non_null(g);
	assert_null(xml_next(g, "member"));
	assert_string_equal(xml_text(g, "AutoScalingGroupName"), "web-asg");
	assert_string_equal(xml_text(g, "DesiredCapacity"), "2");
	assert_string_equal(xml_text(g, "MinSize"), "1");
	assert_string_equal(xml_text(g, "MaxSize"), "10");
	assert_string_equal(xml_text(g, "AvailabilityZones/member"), "eu-west-1a");
	assert_null(xml_text(g, "Status"));
	for (m = xml_path(g, "Instances/member"); m != NULL; m = xml_next(m, "member")) {
		assert_true(n < 2);
		assert_string_equal(xml_text(m, "InstanceId"), want[n].id);
		assert_string_equal(xml_text(m, "LifecycleState"), want[n].lifecycle);
		assert_string_equal(xml_text(m, "HealthStatus"), "Healthy");
		n++;
	}
	assert_int_equal(n, 2);
	assert_string_equal(xml_text(root, "ResponseMetadata/RequestId"),
	    "7c6e177f-f082-11e1-ac58-3714bEXAMPLE");
	xml_free(root);
}

static void test_empty_group_list(void **state)
{
	struct err e = { "" };
	struct xml_node *root = parse(
	    "<DescribeAutoScalingGroupsResponse xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">"
	    "<DescribeAutoScalingGroupsResult><AutoScalingGroups/></DescribeAutoScalingGroupsResult>"
	    "</DescribeAutoScalingGroupsResponse>", &e);
	const struct xml_node *groups;

	(void)state;
	assert_non_null(root);
	groups = xml_path(root, "DescribeAutoScalingGroupsResult/AutoScalingGroups");
	assert_non_null(groups);
	assert_string_equal(groups->text, "");
	assert_null(groups->child);
	assert_null(xml_child(groups, "member"));
	xml_free(root);
}

static void test_set_desired_and_terminate(void **state)
{
	struct err e = { "" };
	struct xml_node *root = parse(set_desired, &e);
	const struct xml_node *a;

	(void)state;
	assert_non_null(root);
	assert_string_equal(root->name, "SetDesiredCapacityResponse");
	assert_string_equal(xml_text(root, "ResponseMetadata/RequestId"),
	    "9fbc7e1a-f082-11e1-ac58-3714bEXAMPLE");
	xml_free(root);

	root = parse(terminate, &e);
	assert_non_null(root);
	a = xml_path(root, "TerminateInstanceInAutoScalingGroupResult/Activity");
	assert_non_null(a);
	assert_string_equal(xml_text(a, "StatusCode"), "InProgress");
	assert_string_equal(xml_text(a, "Progress"), "0");
	assert_string_equal(xml_text(a, "Description"),
	    "Terminating EC2 instance: i-0123456789abcdef0");
	xml_free(root);
}

/* Collects instanceId=privateIpAddress over all reservations. */
static void private_ips(const struct xml_node *root, char *out, size_t size)
{
	const struct xml_node *r, *i;
	size_t n = 0;

	out[0] = '\0';
	for (r = xml_path(root, "reservationSet/item"); r != NULL; r = xml_next(r, "item"))
		for (i = xml_path(r, "instancesSet/item"); i != NULL; i = xml_next(i, "item"))
			n += (size_t)snprintf(out + n, size - n, "%s%s=%s", n ? " " : "",
			    xml_text(i, "instanceId"), xml_text(i, "privateIpAddress"));
}

static void test_describe_instances(void **state)
{
	static const char two_reservations[] =
	    "<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\n"
	    "  <requestId>8f7724cf-496f-496e-8fe3-example</requestId>\n"
	    "  <reservationSet>\n"
	    "    <item><reservationId>r-1</reservationId><instancesSet>\n"
	    "      <item><instanceId>i-a</instanceId><privateIpAddress>10.0.1.1</privateIpAddress></item>\n"
	    "      <item><instanceId>i-b</instanceId><privateIpAddress>10.0.1.2</privateIpAddress></item>\n"
	    "    </instancesSet></item>\n"
	    "    <item><reservationId>r-2</reservationId><groupSet/><instancesSet>\n"
	    "      <item><instanceId>i-c</instanceId><privateIpAddress>10.0.2.3</privateIpAddress></item>\n"
	    "    </instancesSet></item>\n"
	    "  </reservationSet>\n"
	    "</DescribeInstancesResponse>";
	struct err e = { "" };
	struct xml_node *root = parse(describe_instances, &e);
	const struct xml_node *i;
	char ips[200];

	(void)state;
	assert_non_null(root);
	assert_string_equal(xml_text(root, "requestId"), "8f7724cf-496f-496e-8fe3-example");
	private_ips(root, ips, sizeof(ips));
	assert_string_equal(ips, "i-0123456789abcdef0=10.0.1.23");
	i = xml_path(root, "reservationSet/item/instancesSet/item");
	assert_string_equal(xml_text(i, "instanceState/name"), "running");
	assert_string_equal(xml_text(i, "instanceState/code"), "16");
	assert_string_equal(xml_text(i, "ipAddress"), "203.0.113.25");
	assert_string_equal(xml_text(i, "tagSet/item/value"), "web-asg");
	assert_string_equal(xml_text(root, "reservationSet/item/groupSet"), "");
	xml_free(root);

	root = parse(two_reservations, &e);
	assert_non_null(root);
	private_ips(root, ips, sizeof(ips));
	assert_string_equal(ips, "i-a=10.0.1.1 i-b=10.0.1.2 i-c=10.0.2.3");
	xml_free(root);
}

static void test_error_responses(void **state)
{
	struct err e = { "" };
	struct xml_node *root = parse(error_response, &e);

	(void)state;
	assert_non_null(root);
	assert_string_equal(root->name, "ErrorResponse");
	assert_string_equal(xml_text(root, "Error/Type"), "Sender");
	assert_string_equal(xml_text(root, "Error/Code"), "ScalingActivityInProgress");
	assert_string_equal(xml_text(root, "Error/Message"),
	    "Scaling activity 1234 is in progress and blocks this action.");
	assert_string_equal(xml_text(root, "RequestId"), "b2c3d4e5-f082-11e1-ac58-3714bEXAMPLE");
	xml_free(root);

	root = parse(ec2_error, &e);
	assert_non_null(root);
	assert_string_equal(root->name, "Response");
	assert_string_equal(xml_text(root, "Errors/Error/Code"), "InvalidInstanceID.NotFound");
	assert_string_equal(xml_text(root, "Errors/Error/Message"),
	    "The instance ID 'i-0123456789abcdef0' does not exist");
	assert_string_equal(xml_text(root, "RequestID"), "ea966190-f9aa-478e-9ede-example");
	xml_free(root);
}

/* Documents whose root element's text must come out as `text`. */
static const struct {
	const char *name, *doc, *root, *text;
} good[] = {
	{ "predefined_entities", "<a>&lt;&gt;&amp;&apos;&quot;</a>", "a", "<>&'\"" },
	{ "decimal_ref", "<a>&#65;&#9;&#10;</a>", "a", "A\t\n" },
	{ "hex_ref_cases", "<a>&#x4a;&#x4A;&#x0041;</a>", "a", "JJA" },
	{ "two_byte_utf8", "<a>&#xe9;</a>", "a", "\xc3\xa9" },
	{ "three_byte_utf8", "<a>&#x20AC;</a>", "a", "\xe2\x82\xac" },
	{ "four_byte_utf8", "<a>&#x1F600;&#1114111;</a>", "a", "\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf" },
	{ "cdata_is_raw", "<a>x<![CDATA[<b>&amp;]]]]>y</a>", "a", "x<b>&amp;]]y" },
	{ "empty_cdata", "<a><![CDATA[]]></a>", "a", "" },
	{ "text_around_children_joins", "<a>one<b>inner</b>two<c/>three</a>", "a", "onetwothree" },
	{ "whitespace_kept", "<a>  x \n </a>", "a", "  x \n " },
	{ "prefix_stripped", "<s:Envelope xmlns:s=\"urn:x\"></s:Envelope>", "Envelope", "" },
	{ "self_closing", "<a/>", "a", "" },
	{ "self_closing_attrs", "<a x='1' y = \"2\" />", "a", "" },
	{ "attr_refs_and_gt", "<a x=\"&lt;&#65;>'\" y='\"'>t</a>", "a", "t" },
	{ "space_in_end_tag", "<a>t</a \n>", "a", "t" },
	{ "declaration", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a>t</a>\n", "a", "t" },
	{ "bom_and_declaration", "\xef\xbb\xbf<?xml version='1.0'?><a>t</a>", "a", "t" },
	{ "comments_everywhere", "<!-- c --><a><!----><!-- x - y -->t<!-- --></a><!-- -->", "a", "t" },
	{ "processing_instructions", "<?pi x?><a><?other?>t</a><?pi?>", "a", "t" },
	{ "whitespace_around_root", " \r\n\t<a>t</a> \r\n\t", "a", "t" },
	{ "gt_alone_in_text", "<a>a > b ]> ]</a>", "a", "a > b ]> ]" },
	{ "utf8_passes", "<caf\xc3\xa9>\xe2\x82\xac</caf\xc3\xa9>", "caf\xc3\xa9", "\xe2\x82\xac" },
	{ "name_chars", "<a_b-c.d9 _x='1'/>", "a_b-c.d9", "" },
};

static void test_text_decoding(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct err e = { "" };
		struct xml_node *root = parse(good[i].doc, &e);

		print_message("%s\n", good[i].name);
		if (root == NULL)
			print_error("%s\n", e.msg);
		assert_non_null(root);
		assert_string_equal(root->name, good[i].root);
		assert_string_equal(root->text, good[i].text);
		xml_free(root);
	}
}

/* Documents refused, with a part of the message that says why. */
static const struct {
	const char *name, *doc, *why;
} bad[] = {
	{ "empty", "", "no root element" },
	{ "only_space", " \n ", "line 2: no root element" },
	{ "only_comment", "<!-- x -->", "no root element" },
	{ "mismatched", "<a><b></a></b>", "</a> does not close <b>" },
	{ "mismatched_prefix", "<x:a></y:a>", "</y:a> does not close <x:a>" },
	{ "unclosed", "<a><b></b>", "<a> is not closed" },
	{ "junk_after_root", "<a/>x", "junk after the root element" },
	{ "second_root", "<a/><b/>", "junk after the root element" },
	{ "text_before_root", "x<a/>", "text before the root element" },
	{ "doctype", "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", "DOCTYPE is not allowed" },
	{ "doctype_inside", "<a><!DOCTYPE a></a>", "DOCTYPE is not allowed" },
	{ "unknown_entity", "<a>&nbsp;</a>", "unknown entity &nbsp;" },
	{ "bare_ampersand", "<a>a & b</a>", "bad entity reference" },
	{ "entity_no_semicolon", "<a>&lt</a>", "bad entity reference" },
	{ "empty_entity", "<a>&;</a>", "bad entity reference" },
	{ "ref_zero", "<a>&#0;</a>", "&#0; is not an XML character" },
	{ "ref_control", "<a>&#1;</a>", "is not an XML character" },
	{ "ref_surrogate", "<a>&#xD800;</a>", "&#xD800; is not an XML character" },
	{ "ref_too_big", "<a>&#x110000;</a>", "is not an XML character" },
	{ "ref_huge", "<a>&#99999999999999999999;</a>", "is not an XML character" },
	{ "ref_fffe", "<a>&#xFFFE;</a>", "is not an XML character" },
	{ "ref_no_digits", "<a>&#;</a>", "bad character reference" },
	{ "ref_upper_x", "<a>&#X41;</a>", "bad character reference" },
	{ "ref_bad_digit", "<a>&#12a;</a>", "bad character reference" },
	{ "bad_ref_in_attr", "<a x='&bogus;'/>", "unknown entity &bogus;" },
	{ "lt_in_attr", "<a x='<'/>", "'<' in an attribute value" },
	{ "unquoted_attr", "<a x=1/>", "expected a quoted attribute value" },
	{ "attr_without_value", "<a x/>", "expected '=' after an attribute name" },
	{ "attrs_not_spaced", "<a x='1'y='2'/>", "expected whitespace, '>' or '/>'" },
	{ "control_char", "<a>\x01</a>", "control character 0x01" },
	{ "nul_char", "<a>\0</a>", NULL },
	{ "cdata_end_in_text", "<a>]]></a>", "']]>' outside a CDATA section" },
	{ "double_dash_in_comment", "<a><!-- a -- b --></a>", "'--' inside a comment" },
	{ "comment_ends_with_dash", "<a><!-- a ---></a>", "'--' inside a comment" },
	{ "declaration_late", " <?xml version='1.0'?><a/>", "XML declaration not at the start" },
	{ "declaration_inside", "<a><?xml version='1.0'?></a>", "XML declaration not at the start" },
	{ "cdata_outside_root", "<![CDATA[x]]><a/>", "unexpected '<!' before the root element" },
	{ "bad_markup", "<a><!ELEMENT a ANY></a>", "unexpected '<!'" },
	{ "bad_name", "<1a/>", "expected a name, found '1'" },
	{ "two_colons", "<a:b:c/>", "bad name (misplaced colon)" },
	{ "leading_colon", "<:a/>", "bad name (misplaced colon)" },
	{ "trailing_colon", "<a:/>", "ends with a colon" },
	{ "space_before_name", "< a/>", "expected a name" },
	{ "end_tag_junk", "<a></a x>", "expected '>' to end the end tag" },
	{ "slash_without_gt", "<a / >", "expected '>' after '/', found byte 0x20" },
	{ "lone_end_tag", "</a>", "expected a name, found '/'" },
	{ "line_counted", "<a>\n<b>\n</c>\n</a>", "xml: line 3: </c> does not close <b>" },
};

static void test_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct err e = { "" };
		size_t len = strcmp(bad[i].name, "nul_char") == 0 ? 8 : strlen(bad[i].doc);
		struct xml_node *root = parse_len(bad[i].doc, len, &e);

		print_message("%s: %s\n", bad[i].name, e.msg);
		assert_null(root);
		assert_true(strncmp(e.msg, "xml: line ", 10) == 0);
		if (bad[i].why != NULL && strstr(e.msg, bad[i].why) == NULL)
			fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].name, e.msg, bad[i].why);
	}
}

/* Every proper prefix of every sample is refused, never read past its end. */
static void test_every_truncation(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		size_t len = strlen(samples[i].doc);
		struct err e = { "" };
		struct xml_node *root = parse_len(samples[i].doc, len, &e);

		assert_non_null(root);
		xml_free(root);
		for (size_t cut = 0; cut < len; cut++) {
			e.msg[0] = '\0';
			root = parse_len(samples[i].doc, cut, &e);
			if (root != NULL)
				fail_msg("%s cut at %zu parsed", samples[i].name, cut);
			assert_true(e.msg[0] != '\0');
		}
	}
}

/* "<x>" depth times, inner, then "</x>" as often. */
static char *nested(int depth, const char *inner)
{
	char *s = malloc((size_t)depth * 7 + strlen(inner) + 1), *p = s;

	assert_non_null(s);
	for (int i = 0; i < depth; i++)
		p += sprintf(p, "<x>");
	p += sprintf(p, "%s", inner);
	for (int i = 0; i < depth; i++)
		p += sprintf(p, "</x>");
	return s;
}

static void test_depth_limit(void **state)
{
	struct err e = { "" };
	char *s = nested(XML_MAX_DEPTH, "t");
	struct xml_node *root = parse(s, &e);
	const struct xml_node *n = root;
	int depth = 0;

	(void)state;
	assert_non_null(root);
	for (; n->child != NULL; n = n->child)
		depth++;
	assert_int_equal(depth + 1, XML_MAX_DEPTH);
	assert_string_equal(n->text, "t");
	xml_free(root);
	free(s);

	s = nested(XML_MAX_DEPTH + 1, "");
	assert_null(parse(s, &e));
	assert_non_null(strstr(e.msg, "nested deeper than 64"));
	free(s);
	/* A self-closing element is as deep as an open one. */
	s = nested(XML_MAX_DEPTH, "<y/>");
	assert_null(parse(s, &e));
	assert_non_null(strstr(e.msg, "nested deeper than 64"));
	free(s);
}

/* A root with n - 1 empty children: n elements. */
static char *flat(size_t n, size_t *len)
{
	char *s = malloc(n * 4 + 16), *p = s;

	assert_non_null(s);
	p += sprintf(p, "<r>");
	for (size_t i = 1; i < n; i++)
		p += sprintf(p, "<a/>");
	p += sprintf(p, "</r>");
	*len = (size_t)(p - s);
	return s;
}

static void test_node_limit(void **state)
{
	struct err e = { "" };
	size_t len, count = 0;
	char *s = flat(XML_MAX_NODES, &len);
	struct xml_node *root = xml_parse(s, len, &e);

	(void)state;
	assert_non_null(root);
	for (const struct xml_node *a = xml_child(root, "a"); a != NULL; a = xml_next(a, "a"))
		count++;
	assert_int_equal(count, XML_MAX_NODES - 1);
	xml_free(root);
	free(s);

	s = flat(XML_MAX_NODES + 1, &len);
	assert_null(xml_parse(s, len, &e));
	assert_non_null(strstr(e.msg, "more than 100000 elements"));
	free(s);
}

static void test_lookups(void **state)
{
	struct err e = { "" };
	struct xml_node *root = parse("<r><a>1</a><b><c>2</c></b><a>3</a><ab>4</ab></r>", &e);

	(void)state;
	assert_non_null(root);
	assert_ptr_equal(xml_path(root, ""), root);
	assert_string_equal(xml_text(root, "a"), "1");
	assert_string_equal(xml_text(xml_next(xml_child(root, "a"), "a"), ""), "3");
	assert_null(xml_next(xml_next(xml_child(root, "a"), "a"), "a"));
	assert_string_equal(xml_text(root, "b/c"), "2");
	assert_string_equal(xml_text(root, "ab"), "4");
	assert_null(xml_text(root, "b/c/d"));
	assert_null(xml_text(root, "b//c"));
	assert_null(xml_text(root, "x"));
	assert_null(xml_child(NULL, "a"));
	assert_null(xml_next(NULL, "a"));
	assert_null(xml_path(NULL, "a"));
	assert_null(xml_text(NULL, ""));
	xml_free(root);
	xml_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_describe_asg),
		cmocka_unit_test(test_empty_group_list),
		cmocka_unit_test(test_set_desired_and_terminate),
		cmocka_unit_test(test_describe_instances),
		cmocka_unit_test(test_error_responses),
		cmocka_unit_test(test_text_decoding),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_node_limit),
		cmocka_unit_test(test_lookups),
	};

	return cmocka_run_group_tests_name("xml", tests, NULL, NULL);
}
