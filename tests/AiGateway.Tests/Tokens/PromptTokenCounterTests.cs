using System.Text;
using System.Text.Json;
using AiGateway.Tokens;

namespace AiGateway.Tests.Tokens;

public class PromptTokenCounterTests
{
    // OpenAI cookbook "How to count tokens with tiktoken", section 6: the API reported 129 prompt tokens for
    // gpt-3.5-turbo / gpt-4-0613 / gpt-4 and 124 for gpt-4o / gpt-4o-mini.
    internal const string CookbookMessages = """
        {"model":"gpt-4","messages":[
          {"role":"system","content":"You are a helpful, pattern-following assistant that translates corporate jargon into plain English."},
          {"role":"system","name":"example_user","content":"New synergies will help drive top-line growth."},
          {"role":"system","name":"example_assistant","content":"Things working well together will increase revenue."},
          {"role":"system","name":"example_user","content":"Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."},
          {"role":"system","name":"example_assistant","content":"Let's talk later when we're less busy about how to do better."},
          {"role":"user","content":"This late pivot means we don't have time to boil the ocean for the client deliverable."}
        ]}
        """;

    // Cookbook section 7: with this tool the API reported 105 prompt tokens (gpt-3.5-turbo, gpt-4) and 101 (gpt-4o).
    // The cookbook reaches them with per-model constants; the TypeScript rendering reaches them with none.
    private const string CookbookTools = """
        {"model":"gpt-4o","messages":[
          {"role":"system","content":"You are a helpful assistant that can answer to questions about the weather."},
          {"role":"user","content":"What's the weather like in San Francisco?"}
        ],
        "tools":[{"type":"function","function":{"name":"get_current_weather","description":"Get the current weather in a given location",
          "parameters":{"type":"object","properties":{
            "location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},
            "unit":{"type":"string","description":"The unit of temperature to return","enum":["celsius","fahrenheit"]}},
          "required":["location"]}}}]}
        """;

    [Theory]
    [InlineData("cl100k_base", 129)]
    [InlineData("o200k_base", 124)]
    public void Count_CookbookChatExample_MatchesApiPromptTokens(string encoding, int expected) =>
        Assert.Equal(new PromptTokenCount(expected), Chat(encoding, CookbookMessages));

    [Theory]
    [InlineData("cl100k_base", 105)]
    [InlineData("o200k_base", 101)]
    public void Count_CookbookToolsExample_MatchesApiPromptTokens(string encoding, int expected)
    {
        var count = Chat(encoding, CookbookTools);

        Assert.True(count.IsValid);
        Assert.Equal(expected, count.Tokens);
    }

    // hmarr/openai-chat-tokens test cases; each was checked against the API's prompt_tokens for gpt-3.5-turbo (cl100k).
    [Theory]
    [InlineData("""[{"role":"user","content":"hello"}]""", null, 8)]
    [InlineData("""[{"role":"user","content":"hello world"}]""", null, 9)]
    [InlineData("""[{"role":"system","content":"hello"}]""", null, 8)]
    [InlineData("""[{"role":"system","content":"hello:"}]""", null, 9)]
    [InlineData("""[{"role":"system","content":"# Important: you're the best robot"},{"role":"user","content":"hello robot"},{"role":"assistant","content":"hello world"}]""", null, 27)]
    [InlineData("""[{"role":"user","content":"hello"}]""", """[{"name":"foo","parameters":{"type":"object","properties":{}}}]""", 31)]
    [InlineData("""[{"role":"user","content":"hello"}]""", """[{"name":"foo","description":"Do a foo","parameters":{"type":"object","properties":{}}}]""", 36)]
    [InlineData("""[{"role":"user","content":"hello"}]""", """[{"name":"bing_bong","description":"Do a bing bong","parameters":{"type":"object","properties":{"foo":{"type":"string"}}}}]""", 49)]
    [InlineData("""[{"role":"user","content":"hello"}]""", """[{"name":"bing_bong","description":"Do a bing bong","parameters":{"type":"object","properties":{"foo":{"type":"string"},"bar":{"type":"number","description":"A number"}}}}]""", 57)]
    [InlineData("""[{"role":"user","content":"hello"}]""", """[{"name":"bing_bong","description":"Do a bing bong","parameters":{"type":"object","properties":{"foo":{"type":"object","properties":{"bar":{"type":"string","enum":["a","b","c"]},"baz":{"type":"boolean"}}}}}}]""", 68)]
    [InlineData("""[{"role":"user","content":"hello world"},{"role":"function","name":"do_stuff","content":"{}"}]""", null, 15)]
    [InlineData("""[{"role":"user","content":"hello world"},{"role":"function","name":"do_stuff","content":"{\"foo\": \"bar\", \"baz\": 1.5}"}]""", null, 28)]
    [InlineData("""[{"role":"function","name":"dance_the_tango","content":"{\"a\": { \"b\" : { \"c\": false}}}"}]""", null, 24)]
    [InlineData("""[{"role":"assistant","content":"","function_call":{"name":"do_stuff","arguments":"{\"foo\": \"bar\", \"baz\": 1.5}"}}]""", null, 26)]
    [InlineData("""[{"role":"assistant","content":"","function_call":{"name":"do_stuff","arguments":"{\"foo\":\"bar\", \"baz\":\n\n 1.5}"}}]""", null, 25)]
    [InlineData("""[{"role":"system","content":"Hello"},{"role":"user","content":"Hi there"}]""", """[{"name":"do_stuff","parameters":{"type":"object","properties":{}}}]""", 35)]
    [InlineData("""[{"role":"system","content":"Hello:"},{"role":"user","content":"Hi there"}]""", """[{"name":"do_stuff","parameters":{"type":"object","properties":{}}}]""", 35)]
    [InlineData("""[{"role":"system","content":"Hello:"},{"role":"system","content":"Hello"},{"role":"user","content":"Hi there"}]""", """[{"name":"do_stuff","parameters":{"type":"object","properties":{}}}]""", 40)]
    [InlineData("""[{"role":"user","content":"hello"}]""", """[{"name":"get_recipe","parameters":{"type":"object","required":["ingredients","instructions","time_to_cook"],"properties":{"ingredients":{"type":"array","items":{"type":"object","required":["name","unit","amount"],"properties":{"name":{"type":"string"},"unit":{"enum":["grams","ml","cups","pieces","teaspoons"],"type":"string"},"amount":{"type":"number"}}}},"instructions":{"type":"array","items":{"type":"string"},"description":"Steps to prepare the recipe (no numbering)"},"time_to_cook":{"type":"number","description":"Total time to prepare the recipe in minutes"}}}}]""", 106)]
    public void Count_PublishedFunctionCallingExamples_MatchesApiPromptTokens(string messages, string? functions, int expected)
    {
        string body = functions is null
            ? $$"""{"messages":{{messages}}}"""
            : $$"""{"messages":{{messages}},"functions":{{functions}}}""";

        Assert.Equal(new PromptTokenCount(expected), Chat("cl100k_base", body));
    }

    [Fact]
    public void Count_ToolsArray_CountsLikeEquivalentFunctionsArray()
    {
        const string Function = """{"name":"bing_bong","description":"Do a bing bong","parameters":{"type":"object","properties":{"foo":{"type":"string"}}}}""";

        var viaTools = Chat("cl100k_base", $$"""{"messages":[{"role":"user","content":"hello"}],"tools":[{"type":"function","function":{{Function}}}]}""");
        var viaFunctions = Chat("cl100k_base", $$"""{"messages":[{"role":"user","content":"hello"}],"functions":[{{Function}}]}""");

        Assert.Equal(new PromptTokenCount(49), viaTools);
        Assert.Equal(viaFunctions, viaTools);
    }

    [Theory]
    [InlineData("\"none\"", 1)]
    [InlineData("\"auto\"", 0)]
    [InlineData("\"required\"", 0)]
    [InlineData("""{"type":"function","function":{"name":"do_stuff"}}""", 6)]
    public void Count_ToolChoice_AddsChoiceTokens(string toolChoice, int extra)
    {
        const string Tools = """[{"type":"function","function":{"name":"do_stuff","parameters":{"type":"object","properties":{}}}}]""";
        var without = Chat("cl100k_base", $$"""{"messages":[{"role":"user","content":"hi"}],"tools":{{Tools}}}""");

        var with = Chat("cl100k_base", $$"""{"messages":[{"role":"user","content":"hi"}],"tools":{{Tools}},"tool_choice":{{toolChoice}}}""");

        Assert.Equal(without.Tokens + extra, with.Tokens);
    }

    [Fact]
    public void Count_AssistantToolCallsAndToolResult_CountsNameArgumentsAndStringFields()
    {
        const string Body = """
            {"messages":[
              {"role":"user","content":"weather?"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
              {"role":"tool","tool_call_id":"call_1","content":"sunny"}
            ]}
            """;
        var o200k = SharedTokenizers.O200k;
        int expected = 3
            + 3 + Tokens("user") + Tokens("weather?")
            + 3 + Tokens("assistant") + Tokens("get_weather") + Tokens("{\"city\":\"Paris\"}") + 3
            + 3 + Tokens("tool") + Tokens("call_1") + Tokens("sunny");

        Assert.Equal(new PromptTokenCount(expected), Chat("o200k_base", Body));

        int Tokens(string text) => o200k.CountTokens(text);
    }

    [Fact]
    public void Count_ContentPartsArray_CountsTextAndImages()
    {
        const string Body = """
            {"messages":[{"role":"user","content":[
              {"type":"text","text":"hello world"},
              {"type":"image_url","image_url":{"url":"https://example.com/cat.png","detail":"low"}},
              {"type":"image_url","image_url":{"url":"https://example.com/dog.png"}},
              {"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}},
              {"type":"text","text":"and more"}
            ]}]}
            """;
        var o200k = SharedTokenizers.O200k;
        int expected = 3 + 3 + o200k.CountTokens("user") + o200k.CountTokens("hello world") + 85 + 765 + o200k.CountTokens("and more");

        Assert.Equal(new PromptTokenCount(expected), Chat("o200k_base", Body));
    }

    [Fact]
    public void Count_StringAndEquivalentTextPart_CountTheSame()
    {
        var asString = Chat("o200k_base", """{"messages":[{"role":"user","content":"Tell me a joke 🤡"}]}""");
        var asParts = Chat("o200k_base", """{"messages":[{"role":"user","content":[{"type":"text","text":"Tell me a joke 🤡"}]}]}""");

        Assert.Equal(asString, asParts);
    }

    [Fact]
    public void Count_DataUrlPngImage_UsesImageSize()
    {
        string png = Convert.ToBase64String(PngHeader(2048, 4096));
        string body = $$$"""{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,{{{png}}}"}}]}]}""";

        var count = Chat("o200k_base", body);

        Assert.Equal(3 + 3 + SharedTokenizers.O200k.CountTokens("user") + 1105, count.Tokens);
    }

    [Theory]
    [InlineData("\"hello world\"", 2)]
    [InlineData("[\"hello world\",\"hello\"]", 3)]
    [InlineData("[1,2,3,4]", 4)]
    [InlineData("[[1,2,3],[4,5]]", 5)]
    [InlineData("[]", 0)]
    [InlineData("\"\"", 0)]
    public void Count_CompletionsPrompt_CountsEveryShape(string prompt, int expected)
    {
        var count = PromptTokenCounter.Count(SharedTokenizers.Cl100k, PromptKind.Completions, Parse($$"""{"prompt":{{prompt}}}"""));

        Assert.Equal(new PromptTokenCount(expected), count);
    }

    [Theory]
    [InlineData("\"The food was delicious and the waiter...\"", 8)]
    [InlineData("[\"hello world\",\"お誕生日おめでとう\"]", 11)]
    [InlineData("[15339, 1917]", 2)]
    [InlineData("[[15339, 1917],[15339]]", 3)]
    public void Count_EmbeddingsInput_CountsEveryShape(string input, int expected)
    {
        var count = PromptTokenCounter.Count(SharedTokenizers.Cl100k, PromptKind.Embeddings, Parse($$"""{"model":"text-embedding-3-small","input":{{input}}}"""));

        Assert.Equal(new PromptTokenCount(expected), count);
    }

    [Theory]
    [InlineData("ChatCompletions", """[1,2]""", null)]
    [InlineData("ChatCompletions", """{"model":"gpt-4o"}""", "messages")]
    [InlineData("ChatCompletions", """{"messages":"hello"}""", "messages")]
    [InlineData("ChatCompletions", """{"messages":[42]}""", "messages[0]")]
    [InlineData("ChatCompletions", """{"messages":[{"role":"user","content":42}]}""", "messages[0].content")]
    [InlineData("ChatCompletions", """{"messages":[{"role":"user","content":[{"text":"no type"}]}]}""", "messages[0].content[0]")]
    [InlineData("ChatCompletions", """{"messages":[{"role":"user","content":[{"type":"text","text":7}]}]}""", "messages[0].content[0].text")]
    [InlineData("ChatCompletions", """{"messages":[{"role":"user","content":[{"type":"image_url","image_url":5}]}]}""", "messages[0].content[0].image_url")]
    [InlineData("ChatCompletions", """{"messages":[{"role":"assistant","tool_calls":"x"}]}""", "messages[0].tool_calls")]
    [InlineData("Completions", """{"model":"x"}""", "prompt")]
    [InlineData("Completions", """{"prompt":{"a":1}}""", "prompt")]
    [InlineData("Embeddings", """{"input":true}""", "input")]
    [InlineData("Embeddings", """{"input":["ok",{"a":1}]}""", "input[1]")]
    [InlineData("Embeddings", """{"input":[[1,"x"]]}""", "input[0]")]
    public void Count_UnexpectedShape_ReturnsErrorWithParamInsteadOfThrowing(string kind, string body, string? param)
    {
        var count = PromptTokenCounter.Count(SharedTokenizers.O200k, Enum.Parse<PromptKind>(kind), Parse(body));

        Assert.False(count.IsValid);
        Assert.Equal(param, count.Param);
        Assert.NotNull(count.Error);
    }

    [Fact]
    public void Count_PartlyBadMessages_CountsTheGoodOnes()
    {
        var count = Chat("cl100k_base", """{"messages":[{"role":"user","content":"hello"},{"role":"user","content":{"x":1}}]}""");

        Assert.Equal("messages[1].content", count.Param);
        Assert.Equal(8 + 3 + 1, count.Tokens);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("{\"messages\":[}")]
    [InlineData("not json")]
    public void Count_InvalidJsonBytes_ReturnsError(string body)
    {
        var count = PromptTokenCounter.Count(SharedTokenizers.O200k, PromptKind.ChatCompletions, Encoding.UTF8.GetBytes(body));

        Assert.Equal(0, count.Tokens);
        Assert.False(count.IsValid);
    }

    [Fact]
    public void Count_RawUtf8Bytes_EqualsParsedElementCount()
    {
        var fromBytes = PromptTokenCounter.Count(SharedTokenizers.Cl100k, PromptKind.ChatCompletions, Encoding.UTF8.GetBytes(CookbookMessages));

        Assert.Equal(new PromptTokenCount(129), fromBytes);
    }

    [Fact]
    public void Count_OneMegabytePathologicalMessage_IsFast()
    {
        string body = $$"""{"messages":[{"role":"user","content":"{{new string('a', 1024 * 1024)}}"}]}""";
        byte[] utf8 = Encoding.UTF8.GetBytes(body);
        PromptTokenCounter.Count(SharedTokenizers.O200k, PromptKind.ChatCompletions, utf8.AsMemory(0, 0));

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var count = PromptTokenCounter.Count(SharedTokenizers.O200k, PromptKind.ChatCompletions, utf8);

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1), $"took {stopwatch.ElapsedMilliseconds} ms");
        Assert.Equal(3 + 3 + 1 + (1024 * 1024 / 8), count.Tokens);
    }

    [Theory]
    [InlineData("cl100k_base", 105)]
    [InlineData("o200k_base", 101)]
    public void Count_CookbookToolsExampleAsAnthropicMessages_MatchesApiPromptTokens(string encoding, int expected)
    {
        // CookbookTools in Anthropic's shape: the system message moves to 'system', the function to an input_schema tool.
        const string Body = """
            {"model":"gpt-4o","max_tokens":100,
            "system":"You are a helpful assistant that can answer to questions about the weather.",
            "messages":[{"role":"user","content":"What's the weather like in San Francisco?"}],
            "tools":[{"name":"get_current_weather","description":"Get the current weather in a given location",
              "input_schema":{"type":"object","properties":{
                "location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},
                "unit":{"type":"string","description":"The unit of temperature to return","enum":["celsius","fahrenheit"]}},
              "required":["location"]}}]}
            """;

        Assert.Equal(new PromptTokenCount(expected), Messages(encoding, Body));
    }

    [Theory]
    [InlineData("""[{"name":"foo","input_schema":{"type":"object","properties":{}}}]""", 31)]
    [InlineData("""[{"name":"foo","description":"Do a foo","input_schema":{"type":"object","properties":{}}}]""", 36)]
    [InlineData("""[{"name":"bing_bong","description":"Do a bing bong","input_schema":{"type":"object","properties":{"foo":{"type":"string"}}}}]""", 49)]
    public void Count_MessagesTools_GrowLikeThePublishedFunctionExamples(string tools, int expected)
    {
        var without = Messages("cl100k_base", """{"messages":[{"role":"user","content":"hello"}]}""");

        var with = Messages("cl100k_base", $$"""{"messages":[{"role":"user","content":"hello"}],"tools":{{tools}}}""");

        // The hmarr/openai-chat-tokens cases (API-checked, cl100k): "hello" alone is 8 tokens.
        Assert.Equal(8, without.Tokens);
        Assert.Equal(new PromptTokenCount(expected), with);
    }

    [Fact]
    public void Count_MessagesSystemString_GrowsByOneSystemMessage()
    {
        const string System = "You are a terse assistant. Answer in French.";
        var without = Messages("o200k_base", """{"messages":[{"role":"user","content":"Capital of Italy?"}]}""");

        var with = Messages("o200k_base", $$"""{"system":"{{System}}","messages":[{"role":"user","content":"Capital of Italy?"}]}""");

        var o200k = SharedTokenizers.O200k;
        Assert.Equal(without.Tokens + 3 + o200k.CountTokens("system") + o200k.CountTokens(System), with.Tokens);
        Assert.True(with.IsValid);
    }

    [Fact]
    public void Count_MessagesSystemTextBlocks_GrowByOneSystemMessageWithEveryBlock()
    {
        var without = Messages("o200k_base", """{"messages":[{"role":"user","content":"Hi"}]}""");

        var with = Messages("o200k_base", """{"system":[{"type":"text","text":"You are terse.","cache_control":{"type":"ephemeral"}},{"type":"text","text":"Answer in French."}],"messages":[{"role":"user","content":"Hi"}]}""");

        var o200k = SharedTokenizers.O200k;
        Assert.Equal(without.Tokens + 3 + o200k.CountTokens("system") + o200k.CountTokens("You are terse.") + o200k.CountTokens("Answer in French."), with.Tokens);
    }

    [Theory]
    [InlineData("\"\"")]
    [InlineData("[]")]
    [InlineData("null")]
    public void Count_MessagesEmptySystem_AddsNothing(string system)
    {
        var without = Messages("o200k_base", """{"messages":[{"role":"user","content":"Hi"}]}""");

        var with = Messages("o200k_base", $$"""{"system":{{system}},"messages":[{"role":"user","content":"Hi"}]}""");

        Assert.Equal(without, with);
    }

    [Theory]
    [InlineData("""{"type":"none"}""", 1)]
    [InlineData("""{"type":"auto"}""", 0)]
    [InlineData("""{"type":"any","disable_parallel_tool_use":true}""", 0)]
    [InlineData("""{"type":"tool","name":"do_stuff"}""", 6)]
    public void Count_MessagesToolChoice_AddsTheMappedChoiceTokens(string toolChoice, int extra)
    {
        const string Tools = """[{"name":"do_stuff","input_schema":{"type":"object","properties":{}}}]""";
        var without = Messages("cl100k_base", $$"""{"messages":[{"role":"user","content":"hi"}],"tools":{{Tools}}}""");

        var with = Messages("cl100k_base", $$"""{"messages":[{"role":"user","content":"hi"}],"tools":{{Tools}},"tool_choice":{{toolChoice}}}""");

        Assert.Equal(without.Tokens + extra, with.Tokens);
    }

    [Fact]
    public void Count_MessagesToolUseAndToolResult_CountAsToolCallsAndToolMessages()
    {
        const string Body = """
            {"messages":[
              {"role":"user","content":"weather?"},
              {"role":"assistant","content":[{"type":"thinking","thinking":"Hmm.","signature":"x"},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{ "city" : "Paris" }}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"sunny"},{"type":"text","text":"thanks"}]}
            ]}
            """;
        var o200k = SharedTokenizers.O200k;
        int expected = 3
            + 3 + Tokens("user") + Tokens("weather?")
            + 3 + Tokens("assistant") + Tokens("get_weather") + Tokens("{\"city\":\"Paris\"}") + 3
            + 3 + Tokens("tool") + Tokens("toolu_1") + Tokens("sunny")
            + 3 + Tokens("user") + Tokens("thanks");

        Assert.Equal(new PromptTokenCount(expected), Messages("o200k_base", Body));

        int Tokens(string text) => o200k.CountTokens(text);
    }

    [Fact]
    public void Count_MessagesAnthropicOnlyShapes_CountWhatTheyCanAndNeverFail()
    {
        const string Body = """
            {"system":"Be brief.",
             "tools":[{"type":"web_search_20250305","name":"web_search","max_uses":3}],
             "messages":[{"role":"user","content":[
               {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0x"}},
               {"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"image","source":{"type":"url","url":"https://example.com/a.png"}}]},
               {"type":"text","text":"Summarize."}]}]}
            """;
        var o200k = SharedTokenizers.O200k;
        int expected = 3
            + 3 + o200k.CountTokens("system") + o200k.CountTokens("Be brief.")
            + 3 + o200k.CountTokens("tool") + o200k.CountTokens("toolu_1") + ImageTokenEstimator.UnknownSizeTokens
            + 3 + o200k.CountTokens("user") + o200k.CountTokens("Summarize.");

        Assert.Equal(new PromptTokenCount(expected), Messages("o200k_base", Body));
    }

    [Theory]
    [InlineData("""{"system":5,"messages":"hello","tools":{"a":1},"tool_choice":"auto"}""")]
    [InlineData("""{"system":[1,{"type":"text"}],"messages":[1,{"role":7,"content":{"x":1}},{"role":"assistant","content":[{"type":"tool_use","input":[1]}]}]}""")]
    [InlineData("""{"tools":[{"type":7,"name":"x"},{"name":5,"input_schema":3}],"tool_choice":{"type":"tool","name":1},"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"%%%"}}]}]}""")]
    public void Count_MessagesUnexpectedShapes_NeverThrowNorReportAnError(string body) =>
        Assert.True(Messages("o200k_base", body).IsValid);

    public static TheoryData<string> TranslatableMessagesBodies()
    {
        string png = Convert.ToBase64String(PngHeader(2048, 4096));
        const string Weather = """{"name":"get_weather","description":"Get the weather.","input_schema":{"type":"object","properties":{"city":{"type":"string","description":"City"},"unit":{"type":"string","enum":["c","f"]},"days":{"type":"array","items":{"type":"integer"}},"where":{"type":"object","properties":{"lat":{"type":"number"}},"required":["lat"]}},"required":["city"]}}""";
        const string Bare = """{"name":"ping","input_schema":{"type":"object"}}""";
        const string User = """{"role":"user","content":"Hi there"}""";
        return new TheoryData<string>
        {
            $$$"""{"max_tokens":5,"system":"Be brief.","messages":[{{{User}}}],"tools":[{{{Weather}}}],"tool_choice":{"type":"tool","name":"get_weather"}}""",
            $$$"""{"max_tokens":5,"system":[{"type":"text","text":"One block."}],"messages":[{{{User}}}],"tools":[{{{Weather}}},{{{Bare}}}]}""",
            $$$"""{"max_tokens":5,"system":[{"type":"text","text":"First."},{"type":"text","text":"Second."}],"messages":[{{{User}}}],"tools":[{{{Bare}}}],"tool_choice":{"type":"none"}}""",
            $$$"""{"max_tokens":5,"messages":[{{{User}}}],"tools":[{{{Bare}}}],"tool_choice":{"type":"any"}}""",
            $$$"""{"max_tokens":5,"system":"","messages":[{{{User}}}],"tools":[],"tool_choice":{"type":"none"}}""",
            $$$"""{"max_tokens":5,"system":[],"messages":[{{{User}}},{"role":"assistant","content":[]},{"role":"user","content":[]}]}""",
            $$$"""{"max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"{{{png}}}"}},{"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}},{"type":"text","text":"What are these?"}]}]}""",
            """{"max_tokens":5,"messages":[{"role":"user","content":"Weather in Zürich?"},{"role":"assistant","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Zürich","note":"say \"hi\" </script> \u00e9 \/","n":1.50,"list":[true,null]}},{"type":"tool_use","id":"toolu_2","name":"ping"}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"Sunny, 21 °C"},{"type":"tool_result","tool_use_id":"toolu_2","content":[{"type":"text","text":"pong"},{"type":"text","text":"again"}]},{"type":"tool_result","tool_use_id":"toolu_3"},{"type":"text","text":"And tomorrow?\n\"quoted\""}]}]}""",
        };
    }

    [Theory]
    [MemberData(nameof(TranslatableMessagesBodies))]
    public void Count_MessagesBody_EqualsTheCountOfItsChatTranslation(string body)
    {
        var chat = new System.Buffers.ArrayBufferWriter<byte>();
        Assert.True(AiGateway.Providers.Anthropic.ChatRequestTranslator.TryTranslate(Encoding.UTF8.GetBytes(body), "gpt-4o", chat, out _, out var error), error?.Message);

        foreach (var encoding in TokenEncodings.Supported)
        {
            Assert.Equal(Chat(encoding, Encoding.UTF8.GetString(chat.WrittenSpan)), Messages(encoding, body));
        }
    }

    public static TheoryData<string> InboundGoldenRequests()
    {
        var data = new TheoryData<string>();
        foreach (var directory in Directory.GetDirectories(Path.Combine(AppContext.BaseDirectory, "Fixtures", "anthropic", "inbound")).Order(StringComparer.Ordinal))
        {
            if (File.Exists(Path.Combine(directory, "request.json")) && File.Exists(Path.Combine(directory, "upstream-request.json")))
            {
                data.Add(Path.GetFileName(directory));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(InboundGoldenRequests))]
    public void Count_InboundGoldenRequest_EqualsTheCountOfItsGoldenChatRequest(string name)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "Fixtures", "anthropic", "inbound", name);
        var request = File.ReadAllText(Path.Combine(directory, "request.json"));
        var upstream = File.ReadAllText(Path.Combine(directory, "upstream-request.json"));

        foreach (var encoding in TokenEncodings.Supported)
        {
            var count = Messages(encoding, request);
            Assert.Equal(Chat(encoding, upstream), count);
            Assert.True(count.Tokens > 3);
        }
    }

    internal static byte[] PngHeader(int width, int height)
    {
        var png = new byte[33];
        new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R' }.CopyTo(png, 0);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), height);
        return png;
    }

    private static PromptTokenCount Chat(string encoding, string body) =>
        PromptTokenCounter.Count(SharedTokenizers.Get(encoding), PromptKind.ChatCompletions, Parse(body));

    private static PromptTokenCount Messages(string encoding, string body) =>
        PromptTokenCounter.Count(SharedTokenizers.Get(encoding), PromptKind.Messages, Parse(body));

    // The documents stay alive for the test process; tests are short.
    private static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement;
}
