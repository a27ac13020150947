// StopMatcher: what generation may show while watching for stop strings.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "ember/stop.h"

using namespace ember;

namespace {

// Feeds the pieces and returns everything emitted (flushing if no stop).
std::string run(StopMatcher& m, const std::vector<std::string>& pieces) {
  std::string out;
  for (const auto& piece : pieces) {
    auto step = m.push(piece);
    out += step.text;
    if (step.stopped) return out;
  }
  return out + m.flush();
}

}  // namespace

TEST_CASE("stop strings: a stop string split across pieces is caught and not shown") {
  StopMatcher m({"Hello"});
  auto a = m.push("Hel");
  CHECK(a.text.empty());
  CHECK_FALSE(a.stopped);
  CHECK(m.held() == 3);
  auto b = m.push("lo");
  CHECK(b.stopped);
  CHECK(b.text.empty());
  CHECK(m.stop_index() == 0);

  StopMatcher m2({"Hello"});
  CHECK(m2.push("Say H").text == "Say ");
  auto s = m2.push("ello world");
  CHECK(s.stopped);
  CHECK(s.text.empty());
  CHECK(m2.push("more").text.empty());  // nothing after a stop
  CHECK(m2.flush().empty());
}

TEST_CASE("stop strings: text before the stop in the same piece is emitted") {
  StopMatcher m({"</s>"});
  auto s = m.push("done.</s>trailing");
  CHECK(s.stopped);
  CHECK(s.text == "done.");
}

TEST_CASE("stop strings: a held-back partial match is released when it does not complete") {
  StopMatcher m({"Hello"});
  CHECK(m.push("Hel").text.empty());
  auto s = m.push("p me");
  CHECK_FALSE(s.stopped);
  CHECK(s.text == "Help me");
  CHECK(m.held() == 0);

  // A partial match still pending when generation ends is real text.
  StopMatcher m2({"Hello"});
  CHECK(m2.push("oh, Hell").text == "oh, ");
  CHECK(m2.flush() == "Hell");
  CHECK_FALSE(m2.stopped());
}

TEST_CASE("stop strings: the held text restarts a match inside itself") {
  // "HeHello": after "HeHe" only the last "He" can still become "Hello".
  StopMatcher m({"Hello"});
  CHECK(m.push("He").text.empty());
  CHECK(m.push("He").text == "He");
  auto s = m.push("llo");
  CHECK(s.stopped);
  CHECK(s.text.empty());
}

TEST_CASE("stop strings: with several stop strings the earliest in the text wins") {
  StopMatcher m({"###", "User:", "\n\n"});
  CHECK(m.push("Answer: 4").text == "Answer: 4");
  CHECK(m.push("\n").text.empty());  // may start "\n\n"
  auto a = m.push("Use");
  CHECK(a.text == "\n");  // followed by "U" it cannot; "Use" may start "User:"
  CHECK(m.held() == 3);
  auto b = m.push("r: hi ###");
  CHECK(b.stopped);
  CHECK(b.text.empty());
  CHECK(m.stop_index() == 1);

  StopMatcher tie({"abc", "b"});
  auto t = tie.push("xabc");
  CHECK(t.stopped);
  CHECK(t.text == "x");
  CHECK(tie.stop_index() == 0);

  StopMatcher both({"cd", "bcd"});
  auto u = both.push("abcd");
  CHECK(u.text == "a");
  CHECK(both.stop_index() == 1);
}

TEST_CASE("stop strings: UTF-8 stop strings and pieces split inside a code point") {
  const std::string ni_hao = "\xE4\xBD\xA0\xE5\xA5\xBD";  // 你好
  StopMatcher m({ni_hao});
  CHECK(m.push("ok \xE4").text == "ok ");
  CHECK(m.push("\xBD\xA0").text.empty());
  auto s = m.push("\xE5\xA5\xBD!");
  CHECK(s.stopped);
  CHECK(s.text.empty());

  // A multi-byte character that shares only its first byte with the stop string.
  StopMatcher m2({ni_hao});
  CHECK(m2.push("\xE4").text.empty());
  CHECK(m2.push("\xBD\xA1").text == "\xE4\xBD\xA1");
}

TEST_CASE("stop strings: emitted text never ends inside a UTF-8 character") {
  StopMatcher m;  // no stop strings: only UTF-8 holding
  const std::string text = "caf\xC3\xA9 \xF0\x9F\x98\x80 done";  // café 😀 done
  std::string out;
  for (char ch : text) {
    auto step = m.push(std::string(1, ch));
    out += step.text;
    if (!step.text.empty()) {
      const auto last = static_cast<unsigned char>(step.text.back());
      CHECK(((last & 0x80) == 0 || (last & 0xC0) == 0x80));  // ends on ASCII or a completed sequence
    }
  }
  CHECK(out + m.flush() == text);

  StopMatcher cut;
  CHECK(cut.push("ab\xF0\x9F").text == "ab");
  CHECK(cut.flush() == "\xF0\x9F");  // the end of generation releases what is left
}

TEST_CASE("stop strings: empty stop strings are ignored and reset clears the stop") {
  StopMatcher m({"", "END"});
  CHECK(run(m, {"some ", "text"}) == "some text");
  CHECK(run(m, {"a", "EN", "D", "b"}) == "a");
  CHECK(m.stop_index() == 1);
  m.reset();
  CHECK_FALSE(m.stopped());
  CHECK(run(m, {"x", "E"}) == "xE");
}

TEST_CASE("stop strings: streaming byte by byte gives the same result as one piece") {
  const std::vector<std::string> stops = {"<|im_end|>", "\nUser:"};
  const std::string text = "The <|im_e answer is <|im_end|> hidden";
  StopMatcher whole(stops);
  auto w = whole.push(text);
  StopMatcher bytes(stops);
  std::vector<std::string> pieces;
  for (char ch : text) pieces.emplace_back(1, ch);
  CHECK(run(bytes, pieces) == w.text);
  CHECK(w.text == "The <|im_e answer is ");
  CHECK(bytes.stop_index() == 0);
}
