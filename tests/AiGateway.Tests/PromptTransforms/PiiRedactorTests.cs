using AiGateway.PromptTransforms;

namespace AiGateway.Tests.PromptTransforms;

public class PiiRedactorTests
{
    private static PiiRedactor AllDetectors() => new(PiiDetectors.BuiltIn);

    public static TheoryData<string> CleanLines()
    {
        var data = new TheoryData<string>();
        foreach (var line in File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Fixtures", "prompt-transforms", "clean-corpus.txt")))
        {
            if (line.Length > 0) data.Add(line);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CleanLines))]
    public void Mask_OrdinaryProseAndCode_NoFalsePositives(string line)
    {
        var redactor = AllDetectors();

        Assert.Same(line, redactor.Mask(line));
        Assert.Null(redactor.Find(line));
    }

    [Theory]
    [InlineData("email", "Write to jane.doe+news@mail.example.co.uk today.", "jane.doe+news@mail.example.co.uk")]
    [InlineData("phone", "Call +1 (415) 555-2671 after six.", "+1 (415) 555-2671")]
    [InlineData("phone", "Call 415-555-2671 after six.", "415-555-2671")]
    [InlineData("phone", "Ring +49 30 901820 now", "+49 30 901820")]
    [InlineData("credit_card", "Card 4111 1111 1111 1111 expires soon.", "4111 1111 1111 1111")]
    [InlineData("credit_card", "Amex 378282246310005 on file", "378282246310005")]
    [InlineData("credit_card", "card 5555-5555-5555-4444.", "5555-5555-5555-4444")]
    [InlineData("iban", "Pay to DE89 3704 0044 0532 0130 00 please", "DE89 3704 0044 0532 0130 00")]
    [InlineData("iban", "IBAN GB82WEST12345698765432.", "GB82WEST12345698765432")]
    [InlineData("ip_address", "The server at 192.168.10.254 is down.", "192.168.10.254")]
    [InlineData("ip_address", "v6 host 2001:db8::8a2e is down", "2001:db8::8a2e")]
    [InlineData("api_key", "key=sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z")]
    [InlineData("api_key", "anthropic sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123")]
    [InlineData("api_key", "token ghp_abcdefghijklmnopqrstuvwxyz0123456789AB ok", "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB")]
    [InlineData("api_key", "slack xoxb-123456789012-abcdefghij", "xoxb-123456789012-abcdefghij")]
    [InlineData("aws_key", "AWS id AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE")]
    [InlineData("aws_key", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")]
    [InlineData("private_key", "here:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nabc==\n-----END RSA PRIVATE KEY-----\nthanks", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nabc==\n-----END RSA PRIVATE KEY-----")]
    [InlineData("jwt", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")]
    public void Mask_PlantedValue_IsCaughtByItsDetector(string detector, string text, string planted)
    {
        var redactor = AllDetectors();

        var masked = redactor.Mask(text);

        var placeholder = $"[{detector.ToUpperInvariant()}_1]";
        Assert.Equal(text.Replace(planted, placeholder, StringComparison.Ordinal), masked);
        Assert.Equal(planted, redactor.Originals[placeholder]);
        Assert.Equal(detector, AllDetectors().Find(text)!.Name);
    }

    [Theory]
    [InlineData("4111 1111 1111 1112")]
    [InlineData("GB82 WEST 1234 5698 7654 33")]
    public void Mask_ChecksumFails_NotMasked(string text)
    {
        Assert.Same(text, AllDetectors().Mask(text));
    }

    [Fact]
    public void Mask_SameValueTwice_SamePlaceholder()
    {
        var redactor = AllDetectors();

        Assert.Equal("[EMAIL_1] [EMAIL_2]", redactor.Mask("a@example.com b@example.com"));
        Assert.Equal("again [EMAIL_1]", redactor.Mask("again a@example.com"));
    }

    [Theory]
    [InlineData("4111111111111111", true)]
    [InlineData("4111111111111112", false)]
    [InlineData("4242 4242 4242 4242", true)]
    [InlineData("123456789012", false)]
    public void IsValidCard_Luhn(string number, bool expected) => Assert.Equal(expected, PiiDetectors.IsValidCard(number));

    [Theory]
    [InlineData("GB82 WEST 1234 5698 7654 32", true)]
    [InlineData("FR1420041010050500013M02606", true)]
    [InlineData("GB82 WEST 1234 5698 7654 33", false)]
    public void IsValidIban_Mod97(string iban, bool expected) => Assert.Equal(expected, PiiDetectors.IsValidIban(iban));
}
