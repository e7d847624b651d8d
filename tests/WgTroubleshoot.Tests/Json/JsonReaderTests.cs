using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using WgTroubleshoot.Json;
using WgTroubleshoot.Remoting;
using WgTroubleshoot.Snapshot;
using Xunit;

namespace WgTroubleshoot.Tests.Json
{
    /// <summary>The one JSON reader: what it gives, what it refuses (with a position, quoting nothing), and its bounds.</summary>
    public class JsonReaderTests
    {
        private static readonly JsonLimits Small = new JsonLimits(1000, 4, 50);
        private const string PrivateKey = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=";

        private static object Parse(string text) => JsonReader.Parse(text, JsonLimits.Remote);

        [Fact]
        public void ReadsEveryKindOfValue()
        {
            var o = Assert.IsType<Dictionary<string, object>>(Parse("\uFEFF { \"s\" : \"x\", \"n\": -1.5e2, \"t\": true, \"f\": false, \"z\": null,\r\n\t\"a\": [1, [], {}] } \n"));
            Assert.Equal(new[] { "s", "n", "t", "f", "z", "a" }, o.Keys);
            Assert.Equal("x", o["s"]);
            Assert.Equal(-150d, o["n"]);
            Assert.Equal(true, o["t"]);
            Assert.Equal(false, o["f"]);
            Assert.Null(o["z"]);
            var a = Assert.IsType<List<object>>(o["a"]);
            Assert.Equal(1d, a[0]);
            Assert.Empty(Assert.IsType<List<object>>(a[1]));
            Assert.Empty(Assert.IsType<Dictionary<string, object>>(a[2]));
            Assert.Equal("top", Parse("\"top\""));
            Assert.Null(Parse(" null "));
        }

        [Theory]
        [InlineData("0", 0d)]
        [InlineData("-0", 0d)]
        [InlineData("12", 12d)]
        [InlineData("-12.25", -12.25)]
        [InlineData("1e3", 1000d)]
        [InlineData("1E+3", 1000d)]
        [InlineData("25e-1", 2.5)]
        [InlineData("0.5", 0.5)]
        [InlineData("9007199254740992", 9007199254740992d)]
        [InlineData("1.7976931348623157e308", double.MaxValue)]
        [InlineData("5e-324", double.Epsilon)]
        public void ReadsNumbers(string text, double expected)
        {
            Assert.Equal(expected, Assert.IsType<double>(Parse(text)));
            Assert.Equal(expected, Assert.IsType<double>(((List<object>)Parse("[" + text + "]"))[0]));
        }

        [Theory]
        [InlineData("01")]
        [InlineData("-")]
        [InlineData("-a")]
        [InlineData("1.")]
        [InlineData(".5")]
        [InlineData("+1")]
        [InlineData("1e")]
        [InlineData("1e+")]
        [InlineData("--1")]
        [InlineData("0x10")]
        [InlineData("1.2.3")]
        [InlineData("NaN")]
        [InlineData("Infinity")]
        [InlineData("-Infinity")]
        [InlineData("1e400")]
        [InlineData("-1e400")]
        [InlineData("[1,2,03]")]
        public void RefusesWhatIsNotAJsonNumber(string text)
        {
            var ex = Assert.Throws<JsonFormatException>(() => Parse(text));
            Assert.True(ex.Position >= 1, ex.Message);
            Assert.Contains("at character " + ex.Position, ex.Message);
        }

        [Theory]
        [InlineData("", 1)]
        [InlineData("   ", 4)]
        [InlineData("{", 2)]
        [InlineData("[1,]", 4)]
        [InlineData("[1 2]", 4)]
        [InlineData("{\"a\":1,}", 8)]
        [InlineData("{a:1}", 2)]
        [InlineData("{\"a\" 1}", 6)]
        [InlineData("{\"a\":1]", 7)]
        [InlineData("[1}", 3)]
        [InlineData("tru", 1)]
        [InlineData("nul", 1)]
        [InlineData("True", 1)]
        [InlineData("'x'", 1)]
        [InlineData("\"abc", 5)]
        [InlineData("\"a\\x\"", 4)]
        [InlineData("\"a\\", 4)]
        [InlineData("\"tab\there\"", 5)]
        [InlineData("\"nl\nx\"", 4)]
        [InlineData("[1]x", 4)]
        [InlineData("[1] [2]", 5)]
        [InlineData("{\"a\":1,\"a\":2}", 8)]
        [InlineData("\"\\u12g4\"", 4)]
        [InlineData("\"\\u 123\"", 4)]
        [InlineData("\"\\u+123\"", 4)]
        [InlineData("\"\\u12\"", 4)]
        [InlineData("\"\\U0041\"", 3)]
        public void RefusesMalformedTextNamingThePosition(string text, int position)
        {
            var ex = Assert.Throws<JsonFormatException>(() => Parse(text));
            Assert.Equal(position, ex.Position);
            Assert.EndsWith("at character " + position, ex.Message);
        }

        [Fact]
        public void RefusesNoText()
        {
            Assert.Throws<JsonFormatException>(() => JsonReader.Parse(null, JsonLimits.Remote));
            Assert.Throws<ArgumentNullException>(() => JsonReader.Parse("1", null));
        }

        [Theory]
        [InlineData("\"\\u00e9\"", "\u00e9")]
        [InlineData("\"\\u00E9t\\u00e9\"", "\u00e9t\u00e9")]
        [InlineData("\"\\ud83d\\ude00\"", "\ud83d\ude00")]
        [InlineData("\"\\u0000\"", "\u0000")]
        [InlineData("\"caf\u00e9 \u2603 \ud83d\ude00\"", "caf\u00e9 \u2603 \ud83d\ude00")]
        [InlineData("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t")]
        [InlineData("\"\\u2028\\u2029\\u007f\"", "\u2028\u2029\u007f")]
        public void ReadsEscapesAndUnicode(string text, string expected)
            => Assert.Equal(expected, Parse(text));

        [Fact]
        public void A_lone_surrogate_escape_is_kept_as_it_is()
        {
            // as the writer writes one (it has no UTF-8 form); not in InlineData, which cannot carry a lone surrogate
            Assert.Equal("\ud800x", Parse("\"\\ud800x\""));
            Assert.Equal("\udc00", Parse("\"\\udc00\""));
            Assert.Equal("\ud800\ud800", Parse("\"\\uD800\\ud800\""));
        }

        [Fact]
        public void EveryCharacterRoundTripsThroughTheWriterInBothLayouts()
        {
            var chars = Enumerable.Range(0, 0x10000).Select(i => (char)i).ToArray();
            var s = new string(chars);
            var tree = new Dictionary<string, object> { [s] = new List<object> { s, "\ud800", "\udfff" } };
            foreach (var text in new[] { JsonWriter.Compact(tree), new JsonWriter().WriteValue(tree).ToString() })
            {
                var back = Assert.IsType<Dictionary<string, object>>(JsonReader.Parse(text, JsonLimits.Snapshot));
                var kv = Assert.Single(back);
                Assert.Equal(s, kv.Key);
                Assert.Equal(new object[] { s, "\ud800", "\udfff" }, (List<object>)kv.Value);
            }
        }

        [Fact]
        public void NestingUpToTheLimitIsReadAndOneMoreIsRefused()
        {
            Assert.NotNull(JsonReader.Parse("[[[[1]]]]", Small));
            Assert.NotNull(JsonReader.Parse("{\"a\":{\"b\":[{\"c\":2}]}}", Small));
            var ex = Assert.Throws<JsonFormatException>(() => JsonReader.Parse("[[[[[1]]]]]", Small));
            Assert.Equal(5, ex.Position);
            Assert.Contains("nesting deeper than 4", ex.Message);
            foreach (var limits in new[] { JsonLimits.Remote, JsonLimits.Snapshot })
            {
                Assert.NotNull(JsonReader.Parse(new string('[', limits.MaxDepth) + new string(']', limits.MaxDepth), limits));
                Assert.Throws<JsonFormatException>(() => JsonReader.Parse(new string('[', limits.MaxDepth + 1) + new string(']', limits.MaxDepth + 1), limits));
            }
        }

        [Fact]
        public void A_deep_attack_is_refused_before_it_can_exhaust_the_stack()
        {
            var ex = Assert.Throws<JsonFormatException>(() => Parse(new string('[', 1_000_000)));
            Assert.Equal(JsonLimits.Remote.MaxDepth + 1, ex.Position);
            Assert.Throws<JsonFormatException>(() => Parse(string.Concat(Enumerable.Repeat("{\"a\":", 100_000))));
        }

        [Fact]
        public void TextLongerThanTheLimitIsRefusedBeforeReading()
        {
            Assert.NotNull(JsonReader.Parse("\"" + new string('x', 998) + "\"", Small));
            var ex = Assert.Throws<JsonFormatException>(() => JsonReader.Parse("\"" + new string('x', 999) + "\"", Small));
            Assert.Equal(0, ex.Position);
            Assert.Contains("1001 characters, more than the 1000", ex.Message);
            Assert.Throws<JsonFormatException>(() => Parse(new string(' ', JsonLimits.Remote.MaxChars) + "1"));
        }

        [Fact]
        public void MoreValuesThanTheLimitAreRefused()
        {
            // the array and 49 numbers are 50 values; one more is refused, however short the text
            Assert.Equal(49, ((List<object>)JsonReader.Parse("[" + string.Join(",", Enumerable.Repeat("0", 49)) + "]", Small)).Count);
            var ex = Assert.Throws<JsonFormatException>(() => JsonReader.Parse("[" + string.Join(",", Enumerable.Repeat("0", 50)) + "]", Small));
            Assert.Contains("more than 50 values", ex.Message);
            Assert.Throws<JsonFormatException>(() => JsonReader.Parse("{" + string.Join(",", Enumerable.Range(0, 60).Select(i => $"\"k{i}\":{{}}")) + "}", Small));
            var many = "[" + string.Join(",", Enumerable.Repeat("0", JsonLimits.Remote.MaxValues)) + "]";
            Assert.True(many.Length < JsonLimits.Remote.MaxChars);
            Assert.Throws<JsonFormatException>(() => Parse(many));
        }

        [Theory]
        [InlineData("{\"" + PrivateKey + "\":1,\"" + PrivateKey + "\":2}")]
        [InlineData("[\"" + PrivateKey + "\" \"x\"]")]
        [InlineData("{\"PrivateKey\":\"" + PrivateKey + "\"")]
        [InlineData("[\"" + PrivateKey + "\\q\"]")]
        [InlineData("[" + "\"" + PrivateKey + "\", " + PrivateKey + "]")]
        [InlineData("[1e400" + PrivateKey + "]")]
        public void ErrorsQuoteNothingOfTheText(string text)
        {
            var ex = Assert.Throws<JsonFormatException>(() => Parse(text));
            Assert.DoesNotContain(PrivateKey, ex.Message);
            Assert.DoesNotContain("yAnz", ex.Message);
        }

        [Fact]
        public void A_duplicate_property_is_named_only_when_it_is_a_plain_word()
        {
            Assert.Contains("'Peers'", Assert.Throws<JsonFormatException>(() => Parse("{\"Peers\":1,\"Peers\":2}")).Message);
            Assert.Contains("not a plain word", Assert.Throws<JsonFormatException>(() => Parse("{\"a b\":1,\"a b\":2}")).Message);
        }

        [Theory]
        [InlineData("\"HostName\": [\"" + PrivateKey + "\"]", "HostName must be a string, not a list")]
        [InlineData("\"Interfaces\": [{\"Name\": {\"k\": \"" + PrivateKey + "\"}}]", "Interfaces[0].Name must be a string, not an object")]
        [InlineData("\"Interfaces\": [{}, {\"Samples\": \"" + PrivateKey + "\"}]", "Interfaces[1].Samples must be a list, not a string")]
        [InlineData("\"CollectedAt\": \"" + PrivateKey + "\"", "CollectedAt must be a date and time (ISO 8601), not a string")]
        [InlineData("\"Interfaces\": 1.5", "Interfaces must be a list, not a number")]
        public void A_snapshot_of_the_wrong_shape_is_WgSnapshotInvalid_naming_the_path_not_the_value(string field, string why)
        {
            var ex = Assert.Throws<WgException>(() => SnapshotJson.Read("{\"Format\": \"WgTroubleshoot.HostSnapshot\", \"SchemaVersion\": 1, " + field + "}", "t.json"));
            Assert.Equal(ErrorIds.SnapshotInvalid, ex.ErrorId);
            Assert.Equal(System.Management.Automation.ErrorCategory.InvalidData, ex.Category);
            Assert.Contains(why, ex.Message);
            Assert.DoesNotContain(PrivateKey, ex.Message);
        }

        [Theory]
        [InlineData("{\"Format\": \"WgTroubleshoot.HostSnapshot\", \"SchemaVersion\": 1,}", "expected a property name at character")]
        [InlineData("[", "unexpected end of the text at character 2")]
        [InlineData("[]", "not a JSON object")]
        [InlineData("{\"Format\": \"WgTroubleshoot.HostSnapshot\", \"SchemaVersion\": 99}", "schema version 99")]
        public void Malformed_snapshot_text_is_WgSnapshotInvalid(string text, string why)
        {
            var ex = Assert.Throws<WgException>(() => SnapshotJson.Read(text, "t.json"));
            Assert.Equal(ErrorIds.SnapshotInvalid, ex.ErrorId);
            Assert.Contains(why, ex.Message);
        }

        [Fact]
        public void A_bundle_whose_snapshot_failed_says_why_without_a_key()
        {
            var text = "{\"Format\": \"WgTroubleshoot.SupportBundle/1\", \"Snapshot\": {\"Error\": \"wg failed near " + PrivateKey + "\"}}";
            var ex = Assert.Throws<WgException>(() => SnapshotJson.Read(text, "b.json"));
            Assert.Equal(ErrorIds.SnapshotInvalid, ex.ErrorId);
            Assert.Contains("could not be collected: wg failed near", ex.Message);
            Assert.DoesNotContain(PrivateKey, ex.Message);
        }

        [Fact]
        public void A_whole_number_field_refuses_fractions_and_values_out_of_its_type()
        {
            var head = "{\"Format\": \"WgTroubleshoot.HostSnapshot\", \"SchemaVersion\": 1, \"Interfaces\": [{\"Samples\": [{\"Interface\": {\"ListenPort\": ";
            Assert.Equal(51820, SnapshotJson.Read(head + "51820}}]}]}").Interfaces[0].Samples[0].Interface.ListenPort);
            foreach (var bad in new[] { "1.5", "2147483648", "-2147483649", "\"51820\"", "true" })
            {
                var ex = Assert.Throws<WgException>(() => SnapshotJson.Read(head + bad + "}}]}]}"));
                Assert.Contains("Interfaces[0].Samples[0].Interface.ListenPort must be", ex.Message);
            }
        }

        /// <summary>The remote wire format is unchanged: each recorded answer of another host, read and written again, is the same bytes.</summary>
        [Fact]
        public void RecordedRemoteAnswersRewriteToTheSameBytes()
        {
            var files = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Corpus", "twoend"), "*.json", SearchOption.AllDirectories);
            Assert.True(files.Length >= 12, "the two-end corpus is missing");
            foreach (var f in files)
            {
                var text = File.ReadAllText(f).TrimEnd('\n');
                Assert.Equal(text, JsonWriter.Compact(JsonReader.Parse(text, JsonLimits.Remote)));
                Assert.Equal(text, f.EndsWith("-facts.json", StringComparison.Ordinal) ? EndFacts.FromJson(text).ToJson() : CaptureFacts.FromJson(text).ToJson());
            }
        }

        /// <summary>The snapshot file format is unchanged: each recorded snapshot, read as JSON and written again, is the same bytes.</summary>
        [Fact]
        public void RecordedSnapshotsRewriteToTheSameBytes()
        {
            var files = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Corpus", "snapshots"), "*.json", SearchOption.AllDirectories);
            Assert.True(files.Length >= 20, "the snapshot corpus is missing");
            foreach (var f in files)
            {
                var text = File.ReadAllText(f);
                Assert.Equal(text, new JsonWriter().WriteValue(JsonReader.Parse(text, JsonLimits.Snapshot)).ToString() + "\n");
            }
        }

        [Fact]
        public void Remote_messages_are_typed_field_by_field()
        {
            Assert.Equal(51820, EndFacts.FromJson("{\"Interfaces\":[{\"Name\":\"wg0\",\"ListenPort\":51820,\"Extra\":[1]}]}").Interfaces[0].ListenPort);
            foreach (var bad in new[]
            {
                "{\"Interfaces\":[{\"Name\":\"wg0\",\"ListenPort\":70000}]}",
                "{\"Interfaces\":[{\"Name\":\"wg0\",\"ListenPort\":\"51820\"}]}",
                "{\"Interfaces\":[{\"Name\":7}]}",
                "{\"Interfaces\":[7]}",
                "{\"Interfaces\":{}}",
                "{\"LocalAddresses\":[\"192.0.2.1\",3]}",
                "{\"HostName\":\"" + new string('h', 256) + "\"}",
                "{\"Interfaces\":[{\"Peers\":[{\"RxBytes\":1.5}]}]}",
                "[]",
            })
            {
                var ex = Assert.ThrowsAny<FormatException>(() => EndFacts.FromJson(bad));
                Assert.DoesNotContain("51820\"", ex.Message);
            }
            Assert.ThrowsAny<FormatException>(() => CaptureFacts.FromJson("{\"StartUtc\":\"" + PrivateKey + "\"}"));
            Assert.DoesNotContain(PrivateKey, Assert.ThrowsAny<FormatException>(() => CaptureFacts.FromJson("{\"StartUtc\":\"" + PrivateKey + "\"}")).Message);
            Assert.ThrowsAny<FormatException>(() => CaptureFacts.FromJson("{\"Ran\":\"yes\"}"));
        }
    }
}
