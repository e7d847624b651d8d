using System;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Text.Json;
using WgTroubleshoot.Json;
using Xunit;

namespace WgTroubleshoot.Tests.Json
{
    public class JsonWriterTests
    {
        [Theory]
        [InlineData("plain", "\"plain\"")]
        [InlineData("say \"hi\"", "\"say \\\"hi\\\"\"")]
        [InlineData(@"C:\dir\file", "\"C:\\\\dir\\\\file\"")]
        [InlineData("a\nb\r\nc\td", "\"a\\nb\\r\\nc\\td\"")]
        [InlineData("\b\f", "\"\\b\\f\"")]
        [InlineData("\u0000\u0001\u001f", "\"\\u0000\\u0001\\u001f\"")]
        [InlineData("\u007f", "\"\\u007f\"")]
        [InlineData("line\u2028sep\u2029", "\"line\\u2028sep\\u2029\"")]
        [InlineData("a/b+c=", "\"a/b+c=\"")]
        public void EscapesWhatJsonRequires(string input, string expected)
        {
            Assert.Equal(expected, JsonWriter.Quote(input));
        }

        [Fact]
        public void KeepsUnicodeAsItIsAndEscapesLoneSurrogates()
        {
            Assert.Equal("\"café ☃ 😀\"", JsonWriter.Quote("café ☃ 😀"));
            Assert.Equal("\"x\\ud800y\"", JsonWriter.Quote("x\ud800y"));
            Assert.Equal("\"\\udc00\"", JsonWriter.Quote("\udc00"));
        }

        [Fact]
        public void EveryCharacterRoundTripsThroughARealParser()
        {
            var chars = new char[0x3000];
            for (int i = 0; i < chars.Length; i++) chars[i] = (char)i;
            var s = new string(chars).Replace('\ud800', 'x');
            Assert.Equal(s, JsonSerializer.Deserialize<string>(JsonWriter.Quote(s)));
        }

        [Fact]
        public void WritesIndentedObjectsArraysAndScalars()
        {
            var w = new JsonWriter();
            w.StartObject()
             .Name("s").String("x")
             .Name("n").Number(42)
             .Name("d").Number(1.5)
             .Name("nan").Number(double.NaN)
             .Name("t").Bool(true)
             .Name("z").Null()
             .Name("empty").StartArray().EndArray()
             .Name("a").StartArray().Number(1).StartObject().EndObject().EndArray()
             .EndObject();
            var expected = "{\n  \"s\": \"x\",\n  \"n\": 42,\n  \"d\": 1.5,\n  \"nan\": null,\n  \"t\": true,\n  \"z\": null,\n  \"empty\": [],\n  \"a\": [\n    1,\n    {}\n  ]\n}";
            Assert.Equal(expected, w.ToString());
        }

        [Fact]
        public void RejectsMisuse()
        {
            Assert.Throws<InvalidOperationException>(() => new JsonWriter().StartObject().Number(1));
            Assert.Throws<InvalidOperationException>(() => new JsonWriter().StartArray().Name("x"));
            Assert.Throws<InvalidOperationException>(() => new JsonWriter().StartArray().EndObject());
            Assert.Throws<InvalidOperationException>(() => new JsonWriter().Number(1).Number(2));
        }

        private enum Colour { Red, Green }

        private sealed class Sample
        {
            public string Name { get; set; } = "wg0";
            public int? Port { get; set; } = 51820;
            public int? Missing { get; set; }
            public string[] Items { get; set; } = { "a", "b" };
            public Colour Colour { get; set; } = Colour.Green;
            public DateTime When { get; set; } = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
            public TimeSpan Age { get; set; } = TimeSpan.FromSeconds(75);
            public long Big { get; set; } = long.MaxValue;
        }

        [Fact]
        public void WritesObjectsByTheirPublicPropertiesAndDictionariesInOrder()
        {
            var data = new OrderedDictionary { ["b"] = new Sample(), ["a"] = new List<object> { 1, "two", null, false } };
            var text = new JsonWriter().WriteValue(data).ToString();
            using (var doc = JsonDocument.Parse(text))
            {
                var root = doc.RootElement;
                Assert.Equal(new[] { "b", "a" }, EnumerateNames(root));
                var b = root.GetProperty("b");
                Assert.Equal("wg0", b.GetProperty("Name").GetString());
                Assert.Equal(51820, b.GetProperty("Port").GetInt32());
                Assert.Equal(JsonValueKind.Null, b.GetProperty("Missing").ValueKind);
                Assert.Equal("b", b.GetProperty("Items")[1].GetString());
                Assert.Equal("Green", b.GetProperty("Colour").GetString());
                Assert.Equal("2026-01-02T03:04:05.0000000Z", b.GetProperty("When").GetString());
                Assert.Equal("00:01:15", b.GetProperty("Age").GetString());
                Assert.Equal(long.MaxValue, b.GetProperty("Big").GetInt64());
                var a = root.GetProperty("a");
                Assert.Equal(4, a.GetArrayLength());
                Assert.Equal(JsonValueKind.Null, a[2].ValueKind);
                Assert.Equal(JsonValueKind.False, a[3].ValueKind);
            }
        }

        private static List<string> EnumerateNames(JsonElement e)
        {
            var names = new List<string>();
            foreach (var p in e.EnumerateObject()) names.Add(p.Name);
            return names;
        }
    }
}
