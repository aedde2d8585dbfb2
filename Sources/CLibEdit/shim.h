#include <stdio.h>
#include <editline/readline.h>

// readline's settings are global variables: set through functions, which Swift 6 calls
// without treating each access as a data race of its own.
static inline void chat_editline_set_completion(rl_completion_func_t *function) {
    rl_attempted_completion_function = function;
    // A space after a completed word, ready for the next one.
    rl_completion_append_character = ' ';
}

static inline const char *chat_editline_line_buffer(void) {
    return rl_line_buffer;
}
