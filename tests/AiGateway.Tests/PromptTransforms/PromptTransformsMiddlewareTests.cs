using System.Diagnostics;
using System.Text;
using AiGateway.Auth;
using AiGateway.Configuration;
using AiGateway.Pipeline;
using AiGateway.PromptTransforms;
using AiGateway.Protocol;
using AiGateway.Providers.OpenAI;

namespace AiGateway.Tests.PromptTransforms;

public class PromptTransformsMiddlewareTests
{
    internal static AiRequest Request(string body, AiOperation operation = AiOperation.ChatCompletions)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        Assert.True(RequestScanner.TryScan(bytes, out var scanned, out _));
        var cluster = new UpstreamCluster { Id = "c", Adapter = OpenAiAdapter.Instance };
        var deployment = new Deployment { Name = "c/up", Cluster = cluster, UpstreamModel = "up", UpstreamModelJson = Deployment.EncodeJsonString("up"), Weight = 1 };
        return new AiRequest
        {
            Operation = operation,
            Config = null!,
            Caller = GatewayCaller.Anonymous,
            Body = bytes,
            Scanned = scanned,
            Model = new CatalogModel { Name = scanned.Model, Deployments = [deployment], OwnedBy = "x", Encoding = "o200k_base" },
            Deployment = deployment,
        };
    }

    private static (ClientError? Error, string Body, AiRequest Request) Run(string body, params PromptTransformOptions[] scopes) =>
        Run(body, AiOperation.ChatCompletions, scopes);

    private static (ClientError? Error, string Body, AiRequest Request) Run(string body, AiOperation operation, params PromptTransformOptions[] scopes)
    {
        var request = Request(body, operation);
        var errors = new List<string>();
        foreach (var scope in scopes) PromptTransformsValidator.Validate(scope, "p", errors);
        Assert.Empty(errors);
        var error = PromptTransformsMiddleware.Apply(request, scopes.Select(s => PromptPolicy.Compile(s)!).ToArray());
        return (error, Encoding.UTF8.GetString(request.Body.Span), request);
    }

    private static PromptTransformOptions System(string mode, string text) => new() { SystemPrompt = new SystemPromptOptions { Mode = mode, Text = text } };

    [Theory]
    [InlineData("prepend", """{"model":"m","messages":[{"role":"user","content":"hi"}]}""", """{"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}]}""")]
    [InlineData("prepend", """{"model":"m","messages":[{"role":"system","content":"Client."},{"role":"user","content":"hi"}]}""", """{"model":"m","messages":[{"role":"system","content":"Be brief.\n\nClient."},{"role":"user","content":"hi"}]}""")]
    [InlineData("append", """{"model":"m","messages":[{"role":"system","content":"Client."},{"role":"user","content":"hi"}]}""", """{"model":"m","messages":[{"role":"system","content":"Client.\n\nBe brief."},{"role":"user","content":"hi"}]}""")]
    [InlineData("append", """{"model":"m","messages":[{"role":"developer","content":[{"type":"text","text":"Client."}]}]}""", """{"model":"m","messages":[{"role":"developer","content":[{"type":"text","text":"Client."},{"type":"text","text":"Be brief."}]}]}""")]
    [InlineData("replace", """{"model":"m","messages":[{"role":"system","content":"Client."},{"role":"user","content":"hi"},{"role":"system","content":"More."}]}""", """{"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}]}""")]
    public void Apply_SystemPrompt_EditsTheSystemMessage(string mode, string body, string expected)
    {
        var (error, result, _) = Run(body, System(mode, "Be brief."));

        Assert.Null(error);
        Assert.Equal(expected, result);
    }

    [Theory]
    [InlineData("prepend", """{"model":"m","system":"Client.","messages":[]}""", """{"model":"m","system":"Be brief.\n\nClient.","messages":[]}""")]
    [InlineData("replace", """{"model":"m","system":[{"type":"text","text":"Client."}],"messages":[]}""", """{"model":"m","system":"Be brief.","messages":[]}""")]
    [InlineData("append", """{"model":"m","messages":[]}""", """{"model":"m","messages":[],"system":"Be brief."}""")]
    public void Apply_SystemPromptOnMessagesSurface_EditsTheSystemField(string mode, string body, string expected)
    {
        var (error, result, _) = Run(body, AiOperation.Messages, System(mode, "Be brief."));

        Assert.Null(error);
        Assert.Equal(expected, result);
    }

    private static readonly PromptTransformOptions Templates = new()
    {
        Templates =
        [
            new PromptTemplateOptions
            {
                Name = "summarize",
                Messages =
                [
                    new TemplateMessageOptions { Role = "system", Content = "You summarize {{kind}} documents." },
                    new TemplateMessageOptions { Role = "user", Content = "Summarize in {{ words }} words:\n{{text}}" },
                ],
            },
        ],
    };

    [Fact]
    public void Apply_Template_RendersBeforeClientMessagesAndRemovesTheExtension()
    {
        var (error, result, _) = Run("""{"model":"m","aigateway":{"template":"summarize","variables":{"kind":"legal","words":50,"text":"A \"quoted\" text."}},"messages":[{"role":"user","content":"Thanks"}]}""", Templates);

        Assert.Null(error);
        Assert.Equal("""{"model":"m","messages":[{"role":"system","content":"You summarize legal documents."},{"role":"user","content":"Summarize in 50 words:\nA \"quoted\" text."},{"role":"user","content":"Thanks"}]}""", result);
    }

    [Fact]
    public void Apply_TemplateWithoutMessages_CreatesThem()
    {
        var (error, result, _) = Run("""{"model":"m","aigateway":{"template":"summarize","variables":{"kind":"k","words":"5","text":"t"}}}""", Templates);

        Assert.Null(error);
        Assert.Equal("""{"model":"m","messages":[{"role":"system","content":"You summarize k documents."},{"role":"user","content":"Summarize in 5 words:\nt"}]}""", result);
    }

    [Fact]
    public void Apply_TemplateMissingVariable_400NamingIt()
    {
        var (error, _, _) = Run("""{"model":"m","aigateway":{"template":"summarize","variables":{"kind":"legal","text":"t"}},"messages":[]}""", Templates);

        Assert.Equal(400, error!.Status);
        Assert.Equal("missing_template_variable", error.Code);
        Assert.Equal("aigateway.variables.words", error.Param);
        Assert.Contains("'words'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_UnknownTemplate_400()
    {
        var (error, _, _) = Run("""{"model":"m","aigateway":{"template":"nope"},"messages":[]}""", Templates);

        Assert.Equal("template_not_found", error!.Code);
        Assert.Equal("aigateway.template", error.Param);
    }

    private static readonly PromptTransformOptions Parameters = new()
    {
        Parameters = new ParameterPolicyOptions
        {
            Defaults = new() { ["temperature"] = "0.2", ["user"] = "gateway" },
            Overrides = new() { ["n"] = "1" },
            Max = new() { ["max_tokens"] = 100 },
            Deny = ["logprobs"],
        },
    };

    [Fact]
    public void Apply_ParameterPolicy_DefaultsOverridesAndCaps()
    {
        var (error, result, request) = Run("""{"model":"m","messages":[],"max_tokens":5000,"n":3,"user":"u1"}""", Parameters);

        Assert.Null(error);
        Assert.Equal("""{"model":"m","messages":[],"max_tokens":100,"n":1,"user":"u1","temperature":0.2}""", result);
        Assert.Equal(100, request.Scanned.MaxTokens);
    }

    [Fact]
    public void Apply_ParameterUnderCap_Unchanged()
    {
        var (error, result, _) = Run("""{"model":"m","max_tokens":50,"temperature":1,"n":1,"user":"u"}""", Parameters);

        Assert.Null(error);
        Assert.Equal("""{"model":"m","max_tokens":50,"temperature":1,"n":1,"user":"u"}""", result);
    }

    [Fact]
    public void Apply_DeniedParameter_400NamingIt()
    {
        var (error, _, _) = Run("""{"model":"m","messages":[],"logprobs":true}""", Parameters);

        Assert.Equal(400, error!.Status);
        Assert.Equal("logprobs", error.Param);
        Assert.Equal("parameter_not_allowed", error.Code);
    }

    private static readonly PromptTransformOptions Guardrails = new()
    {
        Guardrails = new GuardrailOptions
        {
            MaxPromptChars = 200,
            Rules =
            [
                new GuardrailRuleOptions { Name = "competitors", Keywords = ["Acme Corp", "globex"] },
                new GuardrailRuleOptions { Name = "weapons", Pattern = @"\b(build|make)\s+a\s+bomb\b" },
            ],
        },
    };

    [Theory]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"Compare us with GLOBEX please"}]}""", "competitors")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"how to Make a  bomb"}]}]}""", "weapons")]
    [InlineData("""{"model":"m","prompt":"acme corp rocks"}""", "competitors")]
    public void Apply_GuardrailMatch_400NamingRuleWithoutEcho(string body, string rule)
    {
        var (error, _, _) = Run(body, Guardrails);

        Assert.Equal(400, error!.Status);
        Assert.Equal(PromptTransformsMiddleware.PolicyViolation, error.Code);
        Assert.Contains($"'{rule}'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("bomb", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("globex", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"Globexample and acmecorp are fine; so is a bomber jacket"}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"globex","name":"acme corp","content":"fine"}]}""")]
    public void Apply_GuardrailNoMatch_PassesUnchanged(string body)
    {
        var (error, result, _) = Run(body, Guardrails);

        Assert.Null(error);
        Assert.Equal(body, result);
    }

    [Fact]
    public void Apply_PromptTooLong_400()
    {
        var (error, _, _) = Run($$"""{"model":"m","messages":[{"role":"user","content":"{{new string('x', 201)}}"}]}""", Guardrails);

        Assert.Contains("maxPromptChars", error!.Message, StringComparison.Ordinal);
        Assert.Equal(PromptTransformsMiddleware.PolicyViolation, error.Code);
    }

    [Fact]
    public void Apply_RedactionMask_StablePlaceholdersAcrossMessages()
    {
        var options = new PromptTransformOptions { Redaction = new RedactionOptions { RestoreInResponse = true } };
        var (error, result, request) = Run("""{"model":"m","messages":[{"role":"user","content":"Mail jane.doe@example.com or bob@example.org"},{"role":"assistant","content":"Noted jane.doe@example.com"}]}""", options);

        Assert.Null(error);
        Assert.Equal("""{"model":"m","messages":[{"role":"user","content":"Mail [EMAIL_1] or [EMAIL_2]"},{"role":"assistant","content":"Noted [EMAIL_1]"}]}""", result);
        Assert.Equal("jane.doe@example.com", request.ResponseFilter!.Originals!["[EMAIL_1]"]);
    }

    [Fact]
    public void Apply_RedactionReject_400NamingDetectorWithoutEcho()
    {
        var options = new PromptTransformOptions { Redaction = new RedactionOptions { Mode = "reject" } };
        var (error, _, _) = Run("""{"model":"m","messages":[{"role":"user","content":"my key is sk-proj-abcdefghijklmnopqrstuvwxyz123456"}]}""", options);

        Assert.Equal(PromptTransformsMiddleware.PolicyViolation, error!.Code);
        Assert.Contains("redaction.api_key", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-proj", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_RedactionCustomPattern_MasksWithItsName()
    {
        var options = new PromptTransformOptions { Redaction = new RedactionOptions { Detectors = [], Custom = [new NamedPatternOptions { Name = "employee_id", Pattern = @"\bEMP-[0-9]{6}\b" }] } };
        var (error, result, _) = Run("""{"model":"m","messages":[{"role":"user","content":"Ticket for EMP-123456 and EMP-123456"}]}""", options);

        Assert.Null(error);
        Assert.Equal("""{"model":"m","messages":[{"role":"user","content":"Ticket for [EMPLOYEE_ID_1] and [EMPLOYEE_ID_1]"}]}""", result);
    }

    [Fact]
    public void Apply_AllStepsAndScopes_ExactBodyAndRescanned()
    {
        var global = new PromptTransformOptions
        {
            SystemPrompt = new SystemPromptOptions { Text = "Company policy." },
            Parameters = new ParameterPolicyOptions { Max = new() { ["max_tokens"] = 500 } },
            Redaction = new RedactionOptions(),
        };
        var model = new PromptTransformOptions
        {
            Templates = Templates.Templates,
            Parameters = new ParameterPolicyOptions { Defaults = new() { ["temperature"] = "0" } },
        };
        var key = new PromptTransformOptions
        {
            SystemPrompt = new SystemPromptOptions { Mode = "append", Text = "Team rules." },
            Parameters = new ParameterPolicyOptions { Max = new() { ["max_tokens"] = 200 }, Overrides = new() { ["temperature"] = "0.5" } },
        };

        var (error, result, request) = Run(
            """{"model":"m","stream":true,"max_tokens":1000,"aigateway":{"template":"summarize","variables":{"kind":"HR","words":10,"text":"Call +44 20 7946 0958"}}}""",
            global, model, key);

        Assert.Null(error);
        Assert.Equal(
            """{"model":"m","stream":true,"max_tokens":200,"messages":[{"role":"system","content":"Company policy.\n\nYou summarize HR documents.\n\nTeam rules."},{"role":"user","content":"Summarize in 10 words:\nCall [PHONE_1]"}],"temperature":0.5}""",
            result);
        Assert.Equal(200, request.Scanned.MaxTokens);
        Assert.True(request.Scanned.Stream);
        Assert.False(request.Scanned.HasExtension);
        Assert.Equal("\"m\"", result.Substring(request.Scanned.ModelStart, request.Scanned.ModelLength));
    }

    [Theory]
    [InlineData("""{"model":"m","aigateway":{"template":"t"}}""", true)]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x","aigateway":1}]}""", false)]
    [InlineData("""{"model":"m"}""", false)]
    public void TryScan_ExtensionField_NotedOnlyAtTopLevel(string body, bool expected)
    {
        Assert.True(RequestScanner.TryScan(Encoding.UTF8.GetBytes(body), out var scanned, out _));
        Assert.Equal(expected, scanned.HasExtension);
    }

    [Fact]
    public void Apply_NothingToChange_KeepsTheClientBuffer()
    {
        var request = Request("""{"model":"m","messages":[{"role":"user","content":"hello"}]}""");
        var body = request.Body;

        var error = PromptTransformsMiddleware.Apply(request, [PromptPolicy.Compile(Guardrails)!]);

        Assert.Null(error);
        Assert.True(body.Equals(request.Body));
    }

    [Fact]
    public void Apply_HostileInputAgainstCatastrophicPattern_StaysBounded()
    {
        // (a+)+b backtracks exponentially on "aaaa…c"; NonBacktracking keeps it linear.
        var options = new PromptTransformOptions
        {
            Guardrails = new GuardrailOptions { Rules = [new GuardrailRuleOptions { Name = "redos", Pattern = "^(a+)+b$" }] },
            Redaction = new RedactionOptions { Custom = [new NamedPatternOptions { Name = "nested", Pattern = @"(\w+\s?)*!" }] },
        };
        var hostile = new string('a', 100_000) + "c";
        var stopwatch = Stopwatch.StartNew();

        var (error, _, _) = Run($$"""{"model":"m","messages":[{"role":"user","content":"{{hostile}}"}]}""", options);

        Assert.Null(error);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"took {stopwatch.Elapsed}");
    }
}
