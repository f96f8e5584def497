using EdgeSigner.Ingress.Admin;
using EdgeSigner.Ingress.Signing;
using EdgeSigner.Ingress.Tenants;

namespace EdgeSigner.Ingress.Tests;

public sealed class ApiKeysTests
{
    [Fact]
    public void Generated_keys_are_well_formed_distinct_and_stored_as_a_32_byte_hash()
    {
        var keys = Enumerable.Range(0, 100).Select(_ => ApiKeys.Generate()).ToList();

        Assert.All(keys, k => Assert.True(ApiKeys.IsWellFormed(k)));
        Assert.All(keys, k => Assert.StartsWith("esk_", k, StringComparison.Ordinal));
        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.All(keys, k => Assert.Equal(32, ApiKeys.Hash(k).Length));
        Assert.DoesNotContain(keys[0], Convert.ToHexString(ApiKeys.Hash(keys[0])), StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_matches_its_own_hash_only()
    {
        var key = ApiKeys.Generate();
        var stored = ApiKeys.Hash(key);

        Assert.True(ApiKeys.Matches(key, stored));
        Assert.False(ApiKeys.Matches(key + "x", stored));
        Assert.False(ApiKeys.Matches(ApiKeys.Generate(), stored));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("short")]
    [InlineData("esk_has a space in it........")]
    [InlineData("esk_control\u0001characters.....")]
    [InlineData("esk_unicode_\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9")]
    public void Implausible_keys_are_refused_before_any_lookup(string? key) => Assert.False(ApiKeys.IsWellFormed(key));

    [Fact]
    public void The_admin_token_check_accepts_only_the_configured_token()
    {
        Assert.True(AdminAuthenticationHandler.IsAdminToken("s3cret-token-value", "s3cret-token-value"));
        Assert.False(AdminAuthenticationHandler.IsAdminToken("s3cret-token-valuf", "s3cret-token-value"));
        Assert.False(AdminAuthenticationHandler.IsAdminToken("s3cret", "s3cret-token-value"));
        Assert.False(AdminAuthenticationHandler.IsAdminToken(string.Empty, string.Empty));
        Assert.False(AdminAuthenticationHandler.IsAdminToken("anything", null));
    }

    [Theory]
    [InlineData("aGVsbG8=", "hello")]
    [InlineData("", "")]
    [InlineData("aGk=", "hi")]
    public void Strict_base64_decodes_canonical_input(string text, string expected) =>
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(expected), StrictBase64.Decode(text));

    [Theory]
    [InlineData("aGVsbG8")]
    [InlineData("aGVs bG8=")]
    [InlineData("aGVsbG8=\n")]
    [InlineData("aGVsbG8_")]
    [InlineData("a===")]
    [InlineData("!!!!")]
    public void Strict_base64_refuses_anything_else(string text) => Assert.Null(StrictBase64.Decode(text));
}
